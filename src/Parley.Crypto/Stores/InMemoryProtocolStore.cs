using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;

namespace Parley.Crypto.Stores;

/// <summary>Every store of one device, in memory; for tests and tools.</summary>
public sealed class InMemoryProtocolStore : IProtocolStore
{
    private readonly InMemoryIdentityKeyStore _identities;
    private readonly InMemoryPreKeyStore _preKeys = new();
    private readonly InMemorySignedPreKeyStore _signedPreKeys = new();
    private readonly InMemoryKyberPreKeyStore _kyberPreKeys = new();
    private readonly InMemorySessionStore _sessions = new();

    /// <summary>Creates the stores for a device with this identity and registration id.</summary>
    public InMemoryProtocolStore(IdentityKeyPair identity, uint registrationId)
    {
        _identities = new InMemoryIdentityKeyStore(identity, registrationId);
    }

    /// <summary>Kyber prekey ids reported used.</summary>
    public IReadOnlyCollection<uint> UsedKyberPreKeyIds => _kyberPreKeys.UsedKeyIds;

    /// <inheritdoc />
    public IdentityKeyPair GetIdentityKeyPair() => _identities.GetIdentityKeyPair();

    /// <inheritdoc />
    public uint GetLocalRegistrationId() => _identities.GetLocalRegistrationId();

    /// <inheritdoc />
    public bool SaveIdentity(ProtocolAddress address, IdentityKey identityKey) => _identities.SaveIdentity(address, identityKey);

    /// <inheritdoc />
    public bool IsTrustedIdentity(ProtocolAddress address, IdentityKey identityKey, Direction direction) =>
        _identities.IsTrustedIdentity(address, identityKey, direction);

    /// <inheritdoc />
    public IdentityKey? GetIdentity(ProtocolAddress address) => _identities.GetIdentity(address);

    /// <inheritdoc />
    public PreKeyRecord? LoadPreKey(uint preKeyId) => _preKeys.LoadPreKey(preKeyId);

    /// <inheritdoc />
    public void StorePreKey(uint preKeyId, PreKeyRecord record) => _preKeys.StorePreKey(preKeyId, record);

    /// <inheritdoc />
    public bool ContainsPreKey(uint preKeyId) => _preKeys.ContainsPreKey(preKeyId);

    /// <inheritdoc />
    public void RemovePreKey(uint preKeyId) => _preKeys.RemovePreKey(preKeyId);

    /// <inheritdoc />
    public SignedPreKeyRecord? LoadSignedPreKey(uint signedPreKeyId) => _signedPreKeys.LoadSignedPreKey(signedPreKeyId);

    /// <inheritdoc />
    public IReadOnlyList<SignedPreKeyRecord> LoadSignedPreKeys() => _signedPreKeys.LoadSignedPreKeys();

    /// <inheritdoc />
    public void StoreSignedPreKey(uint signedPreKeyId, SignedPreKeyRecord record) => _signedPreKeys.StoreSignedPreKey(signedPreKeyId, record);

    /// <inheritdoc />
    public bool ContainsSignedPreKey(uint signedPreKeyId) => _signedPreKeys.ContainsSignedPreKey(signedPreKeyId);

    /// <inheritdoc />
    public void RemoveSignedPreKey(uint signedPreKeyId) => _signedPreKeys.RemoveSignedPreKey(signedPreKeyId);

    /// <inheritdoc />
    public KyberPreKeyRecord? LoadKyberPreKey(uint kyberPreKeyId) => _kyberPreKeys.LoadKyberPreKey(kyberPreKeyId);

    /// <inheritdoc />
    public IReadOnlyList<KyberPreKeyRecord> LoadKyberPreKeys() => _kyberPreKeys.LoadKyberPreKeys();

    /// <inheritdoc />
    public void StoreKyberPreKey(uint kyberPreKeyId, KyberPreKeyRecord record) => _kyberPreKeys.StoreKyberPreKey(kyberPreKeyId, record);

    /// <inheritdoc />
    public bool ContainsKyberPreKey(uint kyberPreKeyId) => _kyberPreKeys.ContainsKyberPreKey(kyberPreKeyId);

    /// <inheritdoc />
    public void MarkKyberPreKeyUsed(uint kyberPreKeyId) => _kyberPreKeys.MarkKyberPreKeyUsed(kyberPreKeyId);

    /// <inheritdoc />
    public SessionRecord? LoadSession(ProtocolAddress address) => _sessions.LoadSession(address);

    /// <inheritdoc />
    public IReadOnlyList<uint> GetSubDeviceSessions(string name) => _sessions.GetSubDeviceSessions(name);

    /// <inheritdoc />
    public void StoreSession(ProtocolAddress address, SessionRecord record) => _sessions.StoreSession(address, record);

    /// <inheritdoc />
    public bool ContainsSession(ProtocolAddress address) => _sessions.ContainsSession(address);

    /// <inheritdoc />
    public void DeleteSession(ProtocolAddress address) => _sessions.DeleteSession(address);

    /// <inheritdoc />
    public void DeleteAllSessions(string name) => _sessions.DeleteAllSessions(name);
}
