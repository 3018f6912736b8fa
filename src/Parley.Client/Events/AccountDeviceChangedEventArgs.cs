using Parley.Client.Devices;

namespace Parley.Client.Events;

/// <summary>
/// Another device of this account was linked or removed, as a new list signed by the account key
/// shows (the device id and the change are checked; the name comes from the server and is only
/// shown). Raised once per change on each of the account's other devices, also when it was offline
/// at the time (at its next connect). <see cref="Notice"/> is the line to show.
/// </summary>
public sealed class AccountDeviceChangedEventArgs(uint deviceId, string name, DeviceChange change) : EventArgs
{
    /// <summary>The id of the device that was linked or removed.</summary>
    public uint DeviceId { get; } = deviceId;

    /// <summary>The device's name as the server holds it (empty once removed, when the server no longer knows it).</summary>
    public string Name { get; } = name;

    /// <summary>Linked or removed.</summary>
    public DeviceChange Change { get; } = change;

    /// <summary>The notice to show, e.g. "a new device was linked to your account: laptop (device 2)".</summary>
    public string Notice
    {
        get
        {
            var who = Name.Length > 0 ? $"{Name} (device {DeviceId})" : $"device {DeviceId}";
            return Change == DeviceChange.Linked ? $"a new device was linked to your account: {who}" : $"a device was removed from your account: {who}";
        }
    }
}
