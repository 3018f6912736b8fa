using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>Kyber prekeys in memory. Keys marked used are kept (treated as last-resort keys) and counted in <see cref="UsedKeyIds"/>.</summary>
public sealed class InMemoryKyberPreKeyStore : IKyberPreKeyStore
{
    private readonly Dictionary<uint, KyberPreKeyRecord> _keys = [];
    private readonly HashSet<uint> _used = [];
    private readonly Lock _gate = new();

    /// <summary>Ids reported through <see cref="MarkKyberPreKeyUsed"/>.</summary>
    public IReadOnlyCollection<uint> UsedKeyIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _used];
            }
        }
    }

    /// <inheritdoc />
    public KyberPreKeyRecord? LoadKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return _keys.GetValueOrDefault(kyberPreKeyId);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<KyberPreKeyRecord> LoadKyberPreKeys()
    {
        lock (_gate)
        {
            return [.. _keys.Values];
        }
    }

    /// <inheritdoc />
    public void StoreKyberPreKey(uint kyberPreKeyId, KyberPreKeyRecord record)
    {
        lock (_gate)
        {
            _keys[kyberPreKeyId] = record;
        }
    }

    /// <inheritdoc />
    public bool ContainsKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return _keys.ContainsKey(kyberPreKeyId);
        }
    }

    /// <inheritdoc />
    public void MarkKyberPreKeyUsed(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            _used.Add(kyberPreKeyId);
        }
    }
}
