using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Stores;

/// <summary>Signed prekeys of this device (kept after use; rotated by the application).</summary>
public interface ISignedPreKeyStore
{
    /// <summary>The signed prekey with <paramref name="signedPreKeyId"/>, or null if unknown.</summary>
    SignedPreKeyRecord? LoadSignedPreKey(uint signedPreKeyId);

    /// <summary>All signed prekeys.</summary>
    IReadOnlyList<SignedPreKeyRecord> LoadSignedPreKeys();

    /// <summary>Saves (or replaces) a signed prekey.</summary>
    void StoreSignedPreKey(uint signedPreKeyId, SignedPreKeyRecord record);

    /// <summary>Whether the signed prekey exists.</summary>
    bool ContainsSignedPreKey(uint signedPreKeyId);

    /// <summary>Deletes the signed prekey.</summary>
    void RemoveSignedPreKey(uint signedPreKeyId);
}
