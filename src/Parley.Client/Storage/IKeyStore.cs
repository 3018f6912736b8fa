using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Stores;

namespace Parley.Client.Storage;

/// <summary>
/// The end-to-end encryption half of a client store: Parley.Crypto's <see cref="IProtocolStore"/>
/// plus this device's key bookkeeping, the identities peers presented (changes, verification) and
/// recently sent plaintexts for resends. Identities are per account: a key that differs from the
/// one known for a user is an identity change of that user.
/// </summary>
internal interface IKeyStore : IProtocolStore
{
    /// <summary>Users whose identity key changed since the last call (each change once).</summary>
    IReadOnlyList<string> TakeIdentityChanges();

    /// <summary>Whether this profile has an identity key pair yet.</summary>
    bool HasIdentity();

    /// <summary>Saves this device's identity key pair and registration id (once, at registration or linking).</summary>
    void SaveOwnIdentity(IdentityKeyPair identity, uint registrationId);

    /// <summary>Returns the next id of a key kind (wrapping within 1..0xFFFFFF, as Signal's ids do) and advances it.</summary>
    uint NextKeyId(string kind, uint count);

    /// <summary>Creation time (unix ms) of the newest signed prekey, or null when there is none.</summary>
    long? NewestSignedPreKeyTime();

    /// <summary>The id of the newest signed prekey.</summary>
    uint? NewestSignedPreKeyId();

    /// <summary>Stores a signed prekey with its creation time and forgets signed prekeys created before <paramref name="forgetBefore"/> (except the newest).</summary>
    void AddSignedPreKey(SignedPreKeyRecord record, long createdAt, long forgetBefore);

    /// <summary>Stores Kyber prekeys (one-time, or one last-resort key) in one transaction; old last-resort keys before <paramref name="forgetBefore"/> go.</summary>
    void AddKyberPreKeys(IEnumerable<KyberPreKeyRecord> records, bool lastResort, long createdAt, long forgetBefore = 0);

    /// <summary>Whether a last-resort Kyber prekey exists.</summary>
    bool HasKyberLastResort();

    /// <summary>Stores one-time EC prekeys in one transaction.</summary>
    void AddPreKeys(IEnumerable<PreKeyRecord> records);

    /// <summary>The identity key known for <paramref name="user"/> (the account's key), or null.</summary>
    IdentityKey? PeerIdentity(string user);

    /// <summary>True when the user was verified and the known key is not the verified one (sends are refused until accepted).</summary>
    bool IsBlockedByVerification(string user);

    /// <summary>Whether <paramref name="user"/> is marked verified with the key now known for them.</summary>
    bool IsVerified(string user);

    /// <summary>Marks the key now known for <paramref name="user"/> verified; false when no key is known.</summary>
    bool MarkVerified(string user);

    /// <summary>Accepts the key now known for <paramref name="user"/>: sends resume; the user is no longer marked verified.</summary>
    bool AcceptIdentity(string user);

    /// <summary>Whether the user's key changed and the change has not been accepted or verified since.</summary>
    bool IdentityChangedUnacknowledged(string user);

    /// <summary>
    /// Remembers a sent plaintext for resends, with the devices it went to and the identity key each
    /// had; keeps at most <paramref name="keep"/> entries newer than <paramref name="forgetBefore"/>.
    /// </summary>
    void RememberSent(byte[] id, string peer, long sentAt, byte[] content, IReadOnlyList<(string User, uint Device, byte[] Identity)> devices,
        long forgetBefore, int keep);

    /// <summary>A recently sent message of this device (peer, sent_at, content), or null when unknown or forgotten.</summary>
    (string Peer, long SentAt, byte[] Content)? FindSent(byte[] id);

    /// <summary>The identity key a remembered message went to on this device of <paramref name="user"/>; null when it did not go there.</summary>
    byte[]? SentIdentity(byte[] id, string user, uint device);

    /// <summary>
    /// Queues a resend of <paramref name="original"/> under the fresh envelope id <paramref name="id"/> (the original id
    /// travels inside the ciphertext), for one device and only while it still has <paramref name="identity"/>.
    /// </summary>
    void AddResend(byte[] id, byte[] original, string peer, long sentAt, byte[] content, string user, uint device, byte[] identity);

    /// <summary>For a queued resend: the one device it goes to and the identity key that device must still have; else null.</summary>
    (string User, uint Device, byte[] Identity)? ResendTarget(byte[] id);

    /// <summary>For an outbox id that is a resend: the original message id; else null.</summary>
    byte[]? ResendOriginal(byte[] id);

    /// <summary>Queues a retry request for <paramref name="id"/> (a message of <paramref name="peer"/> that could not be decrypted) in the outbox.</summary>
    void AddRetryRequest(byte[] id, string peer, long sentAt);

    /// <summary>Whether an outbox id is a retry request.</summary>
    bool IsRetryRequest(byte[] id);
}
