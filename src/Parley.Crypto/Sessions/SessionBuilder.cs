using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Sessions;

/// <summary>
/// Starts a session with a remote device from its <see cref="PreKeyBundle"/> (the initiator's half of X3DH /
/// PQXDH). Afterwards <see cref="SessionCipher.Encrypt"/> produces PreKey messages until the remote replies.
/// </summary>
public sealed class SessionBuilder
{
    private readonly ISessionStore _sessions;
    private readonly IIdentityKeyStore _identities;
    private readonly ProtocolAddress _remote;
    private readonly TimeProvider _time;

    /// <summary>Creates a builder for <paramref name="remote"/> over the given stores.</summary>
    public SessionBuilder(ISessionStore sessions, IIdentityKeyStore identities, ProtocolAddress remote, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(identities);
        ArgumentNullException.ThrowIfNull(remote);
        _sessions = sessions;
        _identities = identities;
        _remote = remote;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Creates a builder for <paramref name="remote"/> over one combined store.</summary>
    public SessionBuilder(IProtocolStore store, ProtocolAddress remote, TimeProvider? time = null)
        : this(store, store, remote, time)
    {
    }

    /// <summary>
    /// Verifies the bundle (trusted identity, signatures on the signed and Kyber prekeys), runs X3DH — or PQXDH
    /// when the bundle has a Kyber prekey — and stores the new session as current, archiving any previous one.
    /// Throws <see cref="UntrustedIdentityException"/> or <see cref="InvalidSignatureException"/> without
    /// changing any store.
    /// </summary>
    public void ProcessPreKeyBundle(PreKeyBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        if (!_identities.IsTrustedIdentity(_remote, bundle.IdentityKey, Direction.Sending))
        {
            throw new UntrustedIdentityException(_remote);
        }

        bundle.VerifySignatures();

        var record = _sessions.LoadSession(_remote) ?? new SessionRecord();
        var ourIdentity = _identities.GetIdentityKeyPair();
        var baseKey = EcKeyPair.Generate();
        var parameters = new InitiatorParameters(
            ourIdentity,
            baseKey,
            bundle.IdentityKey,
            bundle.SignedPreKeyPublic,
            bundle.PreKeyPublic,
            bundle.SignedPreKeyPublic,
            bundle.KyberPreKeyPublic);

        var (state, kyberCiphertext) = RatchetingSession.InitializeAsInitiator(parameters);
        state.PendingPreKey = new PendingPreKey(
            bundle.PreKeyId,
            bundle.SignedPreKeyId,
            baseKey.PublicKey,
            (ulong)_time.GetUtcNow().ToUnixTimeSeconds(),
            bundle.KyberPreKeyId,
            kyberCiphertext);
        state.LocalRegistrationId = _identities.GetLocalRegistrationId();
        state.RemoteRegistrationId = bundle.RegistrationId;

        _identities.SaveIdentity(_remote, bundle.IdentityKey);
        record.PromoteState(state);
        _sessions.StoreSession(_remote, record);
    }
}
