namespace Parley.Client.Devices;

/// <summary>What happened to a device of this client's own account.</summary>
public enum DeviceChange
{
    /// <summary>A new device was linked: the account's signed list names it now.</summary>
    Linked,

    /// <summary>A device was removed: the account's signed list no longer names it.</summary>
    Removed,
}
