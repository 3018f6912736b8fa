using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>Kyber (KEM) prekeys of this device for PQXDH.</summary>
public interface IKyberPreKeyStore
{
    /// <summary>The Kyber prekey with <paramref name="kyberPreKeyId"/>, or null if unknown.</summary>
    KyberPreKeyRecord? LoadKyberPreKey(uint kyberPreKeyId);

    /// <summary>All Kyber prekeys.</summary>
    IReadOnlyList<KyberPreKeyRecord> LoadKyberPreKeys();

    /// <summary>Saves (or replaces) a Kyber prekey.</summary>
    void StoreKyberPreKey(uint kyberPreKeyId, KyberPreKeyRecord record);

    /// <summary>Whether the Kyber prekey exists.</summary>
    bool ContainsKyberPreKey(uint kyberPreKeyId);

    /// <summary>Called once a PreKey message using the key has decrypted: one-time keys should be removed, a last-resort key kept.</summary>
    void MarkKyberPreKeyUsed(uint kyberPreKeyId);
}
