using System.Collections.Concurrent;

namespace Parley.Server.Gateway;

/// <summary>Which devices are connected to this node, and how many connections are open at all.</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, DeviceConnection> _byDevice = new();
    private int _open;

    /// <summary>Open WebSocket connections, authenticated or not.</summary>
    public int Open => Volatile.Read(ref _open);

    public int Authenticated => _byDevice.Count;

    public ICollection<DeviceConnection> Connections => _byDevice.Values;

    /// <summary>Counts a new socket; false (and not counted) when <paramref name="max"/> are already open.</summary>
    public bool TryReserve(int max)
    {
        while (true)
        {
            int open = Volatile.Read(ref _open);
            if (open >= max)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _open);

    /// <summary>Registers the device's connection; returns the one it replaces, if any.</summary>
    public DeviceConnection? Register(DeviceConnection connection)
    {
        DeviceConnection? previous = null;
        _byDevice.AddOrUpdate(connection.DeviceKey, connection, (_, old) =>
        {
            previous = old;
            return connection;
        });
        return previous;
    }

    /// <summary>Removes the device's entry only if it is still this connection.</summary>
    public bool Unregister(DeviceConnection connection) =>
        _byDevice.TryRemove(new KeyValuePair<long, DeviceConnection>(connection.DeviceKey, connection));

    public DeviceConnection? Find(long deviceKey) => _byDevice.GetValueOrDefault(deviceKey);
}
