using System.Collections.Immutable;

namespace Parley.Server.Accounts;

/// <summary>
/// An account as the server keeps it in memory. The device list is swapped whole on change, so
/// readers on any thread see a consistent list without locks.
/// </summary>
public sealed class Account(long id, string user, string? phone, ImmutableArray<DeviceRecord> devices, long lastSeen)
{
    private ImmutableArray<DeviceRecord> _devices = devices;
    private long _lastSeen = lastSeen;
    private PublishedDeviceList? _deviceList;

    public long Id { get; } = id;

    public string User { get; } = user;

    public string? Phone { get; } = phone;

    public ImmutableArray<DeviceRecord> Devices => _devices;

    /// <summary>Unix milliseconds when the last device went offline; 0 when never seen.</summary>
    public long LastSeen
    {
        get => Interlocked.Read(ref _lastSeen);
        set => Interlocked.Exchange(ref _lastSeen, value);
    }

    /// <summary>Per device: unix ms of its last connect or disconnect, and how many connections it has open (memory only).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<uint, (long LastSeen, int Open)> DeviceActivity { get; } = new();

    /// <summary>The account's signed device list, or null until its primary publishes one.</summary>
    public PublishedDeviceList? DeviceList
    {
        get => Volatile.Read(ref _deviceList);
        internal set => Volatile.Write(ref _deviceList, value);
    }

    public DeviceRecord? FindDevice(uint deviceId)
    {
        foreach (var d in _devices)
        {
            if (d.Id == deviceId)
            {
                return d;
            }
        }
        return null;
    }

    internal void AddDevice(DeviceRecord device) => ImmutableInterlocked.Update(ref _devices, list => list.Add(device));

    internal void RemoveDevice(uint deviceId) => ImmutableInterlocked.Update(ref _devices, list => list.RemoveAll(d => d.Id == deviceId));
}
