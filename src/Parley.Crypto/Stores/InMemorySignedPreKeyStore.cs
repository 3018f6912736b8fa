using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>Signed prekeys in memory.</summary>
public sealed class InMemorySignedPreKeyStore : ISignedPreKeyStore
{
    private readonly Dictionary<uint, SignedPreKeyRecord> _keys = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public SignedPreKeyRecord? LoadSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return _keys.GetValueOrDefault(signedPreKeyId);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SignedPreKeyRecord> LoadSignedPreKeys()
    {
        lock (_gate)
        {
            return [.. _keys.Values];
        }
    }

    /// <inheritdoc />
    public void StoreSignedPreKey(uint signedPreKeyId, SignedPreKeyRecord record)
    {
        lock (_gate)
        {
            _keys[signedPreKeyId] = record;
        }
    }

    /// <inheritdoc />
    public bool ContainsSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return _keys.ContainsKey(signedPreKeyId);
        }
    }

    /// <inheritdoc />
    public void RemoveSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            _keys.Remove(signedPreKeyId);
        }
    }
}
