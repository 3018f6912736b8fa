using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>One-time prekeys of this device; each is removed once a session has consumed it.</summary>
public interface IPreKeyStore
{
    /// <summary>The prekey with <paramref name="preKeyId"/>, or null if unknown (e.g. already used).</summary>
    PreKeyRecord? LoadPreKey(uint preKeyId);

    /// <summary>Saves (or replaces) a prekey.</summary>
    void StorePreKey(uint preKeyId, PreKeyRecord record);

    /// <summary>Whether the prekey exists.</summary>
    bool ContainsPreKey(uint preKeyId);

    /// <summary>Deletes the prekey (called once a PreKey message using it has decrypted).</summary>
    void RemovePreKey(uint preKeyId);
}
