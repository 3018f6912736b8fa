using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>One-time prekeys in memory.</summary>
public sealed class InMemoryPreKeyStore : IPreKeyStore
{
    private readonly Dictionary<uint, PreKeyRecord> _keys = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public PreKeyRecord? LoadPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return _keys.GetValueOrDefault(preKeyId);
        }
    }

    /// <inheritdoc />
    public void StorePreKey(uint preKeyId, PreKeyRecord record)
    {
        lock (_gate)
        {
            _keys[preKeyId] = record;
        }
    }

    /// <inheritdoc />
    public bool ContainsPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return _keys.ContainsKey(preKeyId);
        }
    }

    /// <inheritdoc />
    public void RemovePreKey(uint preKeyId)
    {
        lock (_gate)
        {
            _keys.Remove(preKeyId);
        }
    }
}
