using Parley.Crypto.Sessions;

namespace Parley.Crypto.Stores;

/// <summary>
/// Session records in memory. Records are kept and handed out as copies, so a caller's half-finished
/// change never leaks into the store — the same isolation a database-backed store gives.
/// </summary>
public sealed class InMemorySessionStore : ISessionStore
{
    private readonly Dictionary<ProtocolAddress, SessionRecord> _sessions = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public SessionRecord? LoadSession(ProtocolAddress address)
    {
        lock (_gate)
        {
            return _sessions.TryGetValue(address, out var record) ? record.Clone() : null;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<uint> GetSubDeviceSessions(string name)
    {
        lock (_gate)
        {
            return [.. _sessions.Keys.Where(a => a.Name == name && a.DeviceId != 1).Select(a => a.DeviceId)];
        }
    }

    /// <inheritdoc />
    public void StoreSession(ProtocolAddress address, SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            _sessions[address] = record.Clone();
        }
    }

    /// <inheritdoc />
    public bool ContainsSession(ProtocolAddress address)
    {
        lock (_gate)
        {
            return _sessions.TryGetValue(address, out var record) && record.HasCurrentState;
        }
    }

    /// <inheritdoc />
    public void DeleteSession(ProtocolAddress address)
    {
        lock (_gate)
        {
            _sessions.Remove(address);
        }
    }

    /// <inheritdoc />
    public void DeleteAllSessions(string name)
    {
        lock (_gate)
        {
            foreach (var address in _sessions.Keys.Where(a => a.Name == name).ToList())
            {
                _sessions.Remove(address);
            }
        }
    }
}
