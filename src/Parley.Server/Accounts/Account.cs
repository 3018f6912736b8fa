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
    private uint _highestDeviceId = devices.IsDefaultOrEmpty ? 0 : devices.Max(d => d.Id);

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

    /// <summary>The highest device id this account ever had (removed ones included): the next device gets the one above it.</summary>
    public uint HighestDeviceId => Volatile.Read(ref _highestDeviceId);

    /// <summary>Takes a higher mark (from the store at start-up); a lower one is ignored.</summary>
    internal void RaiseHighestDeviceId(uint id)
    {
        if (id > _highestDeviceId)
        {
            Volatile.Write(ref _highestDeviceId, id);
        }
    }

    internal void AddDevice(DeviceRecord device)
    {
        ImmutableInterlocked.Update(ref _devices, list => list.Add(device));
        RaiseHighestDeviceId(device.Id);
    }

    internal void RemoveDevice(uint deviceId) => ImmutableInterlocked.Update(ref _devices, list => list.RemoveAll(d => d.Id == deviceId));
}
