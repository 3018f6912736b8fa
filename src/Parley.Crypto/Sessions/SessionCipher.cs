using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.Ratchet;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Sessions;

/// <summary>
/// Encrypts to and decrypts from one remote device with the Double Ratchet, as libsignal. Each call loads the
/// session record, and stores it back only when the operation succeeded: a failed decrypt never changes state.
/// Calls are not synchronized: the caller runs one operation at a time per remote address (as a per-conversation
/// queue does), or two concurrent calls could both start from the same record.
/// </summary>
public sealed class SessionCipher
{
    private readonly ISessionStore _sessions;
    private readonly IPreKeyStore _preKeys;
    private readonly ISignedPreKeyStore _signedPreKeys;
    private readonly IKyberPreKeyStore _kyberPreKeys;
    private readonly IIdentityKeyStore _identities;
    private readonly ProtocolAddress _remote;
    private readonly TimeProvider _time;

    /// <summary>Creates a cipher for <paramref name="remote"/> over the given stores.</summary>
    public SessionCipher(
        ISessionStore sessions,
        IPreKeyStore preKeys,
        ISignedPreKeyStore signedPreKeys,
        IKyberPreKeyStore kyberPreKeys,
        IIdentityKeyStore identities,
        ProtocolAddress remote,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(preKeys);
        ArgumentNullException.ThrowIfNull(signedPreKeys);
        ArgumentNullException.ThrowIfNull(kyberPreKeys);
        ArgumentNullException.ThrowIfNull(identities);
        ArgumentNullException.ThrowIfNull(remote);
        _sessions = sessions;
        _preKeys = preKeys;
        _signedPreKeys = signedPreKeys;
        _kyberPreKeys = kyberPreKeys;
        _identities = identities;
        _remote = remote;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Creates a cipher for <paramref name="remote"/> over one combined store.</summary>
    public SessionCipher(IProtocolStore store, ProtocolAddress remote, TimeProvider? time = null)
        : this(store, store, store, store, store, remote, time)
    {
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> with the next sending-chain key. Returns a
    /// <see cref="PreKeySignalMessage"/> until the remote has answered, a <see cref="SignalMessage"/> after.
    /// Throws <see cref="NoSessionException"/> without a usable session and <see cref="UntrustedIdentityException"/>
    /// when the remote identity is no longer trusted.
    /// </summary>
    public CiphertextMessage Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var record = _sessions.LoadSession(_remote) ?? throw new NoSessionException($"No session with {_remote}.");
        var state = record.Current ?? throw new NoSessionException($"No current session with {_remote}.");
        var sender = state.Sender ?? throw new NoSessionException($"Session with {_remote} has no sending chain.");
        var remoteIdentity = state.RemoteIdentity ?? throw new InvalidSessionException($"Session with {_remote} has no remote identity.");

        if (!_identities.IsTrustedIdentity(_remote, remoteIdentity, Direction.Sending))
        {
            throw new UntrustedIdentityException(_remote);
        }

        var pending = state.PendingPreKey;
        if (pending is not null &&
            DateTimeOffset.FromUnixTimeSeconds((long)pending.TimestampSeconds) + ProtocolLimits.MaxUnacknowledgedSessionAge < _time.GetUtcNow())
        {
            throw new NoSessionException($"Unanswered session with {_remote} is stale; fetch a new prekey bundle.");
        }

        var chainKey = sender.ChainKey;
        var keys = chainKey.MessageKeys();
        try
        {
            var ciphertext = MessageCipher.Encrypt(plaintext, keys.CipherKey, keys.Iv);
            var version = (byte)state.Version;
            var message = SignalMessage.Create(
                version,
                keys.MacKey,
                sender.RatchetKeyPair.PublicKey,
                chainKey.Index,
                state.PreviousCounter,
                ciphertext,
                state.LocalIdentity,
                remoteIdentity);

            CiphertextMessage result = pending is null
                ? message
                : PreKeySignalMessage.Create(
                    version,
                    state.LocalRegistrationId,
                    pending.PreKeyId,
                    pending.SignedPreKeyId,
                    pending.KyberPreKeyId,
                    pending.KyberCiphertext,
                    pending.BaseKey,
                    state.LocalIdentity,
                    message);

            state.Sender = sender with { ChainKey = chainKey.Next() };
            _identities.SaveIdentity(_remote, remoteIdentity);
            _sessions.StoreSession(_remote, record);
            return result;
        }
        finally
        {
            keys.Zero();
        }
    }

    /// <summary>
    /// Decrypts the first message(s) of a session: runs the recipient half of X3DH/PQXDH (unless this PreKey
    /// message's session already exists), decrypts, then stores the session, saves the identity and consumes the
    /// one-time prekey. Throws <see cref="UntrustedIdentityException"/>, <see cref="InvalidKeyException"/> (an
    /// unknown prekey id), <see cref="InvalidMacException"/>, <see cref="InvalidMessageException"/> or
    /// <see cref="DuplicateMessageException"/>; on any failure no store changes.
    /// </summary>
    public byte[] Decrypt(PreKeySignalMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_identities.IsTrustedIdentity(_remote, message.IdentityKey, Direction.Receiving))
        {
            throw new UntrustedIdentityException(_remote);
        }

        var record = _sessions.LoadSession(_remote) ?? new SessionRecord();
        bool consumedPreKeys = ProcessPreKey(message, record);
        var current = record.Current!.Clone();
        var plaintext = DecryptWithState(current, message.Message);
        record.Current = current;

        _identities.SaveIdentity(_remote, message.IdentityKey);
        _sessions.StoreSession(_remote, record);
        if (consumedPreKeys)
        {
            if (message.PreKeyId is { } preKeyId)
            {
                _preKeys.RemovePreKey(preKeyId);
            }

            if (message.KyberPreKeyId is { } kyberPreKeyId)
            {
                _kyberPreKeys.MarkKyberPreKeyUsed(kyberPreKeyId);
            }
        }

        return plaintext;
    }

    /// <summary>
    /// Decrypts a message on an existing session, trying the current state first and then archived ones.
    /// Throws <see cref="NoSessionException"/>, <see cref="InvalidMacException"/> (altered or foreign message),
    /// <see cref="InvalidMessageException"/>, <see cref="DuplicateMessageException"/> (replay) or
    /// <see cref="UntrustedIdentityException"/>; on any failure no store changes.
    /// </summary>
    public byte[] Decrypt(SignalMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var record = _sessions.LoadSession(_remote) ?? throw new NoSessionException($"No session with {_remote}.");
        var plaintext = DecryptWithRecord(record, message);
        var remoteIdentity = record.Current!.RemoteIdentity!;
        if (!_identities.IsTrustedIdentity(_remote, remoteIdentity, Direction.Receiving))
        {
            throw new UntrustedIdentityException(_remote);
        }

        _identities.SaveIdentity(_remote, remoteIdentity);
        _sessions.StoreSession(_remote, record);
        return plaintext;
    }

    /// <summary>Decrypts either kind of 1:1 message (see the two typed overloads); other kinds throw <see cref="InvalidMessageException"/>.</summary>
    public byte[] Decrypt(CiphertextMessage message) => message switch
    {
        PreKeySignalMessage preKey => Decrypt(preKey),
        SignalMessage signal => Decrypt(signal),
        null => throw new ArgumentNullException(nameof(message)),
        _ => throw new InvalidMessageException($"{message.Type} messages cannot be decrypted by a session cipher."),
    };

    /// <summary>The remote device's registration id from the current session.</summary>
    public uint GetRemoteRegistrationId() =>
        (_sessions.LoadSession(_remote) ?? throw new NoSessionException($"No session with {_remote}.")).RemoteRegistrationId;

    /// <summary>The current session's version (3 = X3DH, 4 = PQXDH).</summary>
    public uint GetSessionVersion() =>
        (_sessions.LoadSession(_remote) ?? throw new NoSessionException($"No session with {_remote}.")).SessionVersion;

    /// <summary>Makes the session this PreKey message belongs to current in <paramref name="record"/>; true when it had to be created (prekeys consumed).</summary>
    private bool ProcessPreKey(PreKeySignalMessage message, SessionRecord record)
    {
        if (record.PromoteMatchingSession(message.MessageVersion, message.BaseKey.SerializedBytes))
        {
            return false;
        }

        var signedPreKey = _signedPreKeys.LoadSignedPreKey(message.SignedPreKeyId)
            ?? throw new InvalidKeyException($"No signed prekey with id {message.SignedPreKeyId}.");

        KemKeyPair? kyberPreKey = null;
        if (message.KyberPreKeyId is { } kyberId)
        {
            kyberPreKey = (_kyberPreKeys.LoadKyberPreKey(kyberId)
                ?? throw new InvalidKeyException($"No Kyber prekey with id {kyberId}.")).KeyPair;
        }

        EcKeyPair? oneTimePreKey = null;
        if (message.PreKeyId is { } preKeyId)
        {
            oneTimePreKey = (_preKeys.LoadPreKey(preKeyId)
                ?? throw new InvalidKeyException($"No one-time prekey with id {preKeyId}.")).KeyPair;
        }

        var parameters = new RecipientParameters(
            _identities.GetIdentityKeyPair(),
            signedPreKey.KeyPair,
            oneTimePreKey,
            signedPreKey.KeyPair,
            kyberPreKey,
            message.IdentityKey,
            message.BaseKey,
            message.KyberCiphertext);
        var state = RatchetingSession.InitializeAsRecipient(parameters);
        state.LocalRegistrationId = _identities.GetLocalRegistrationId();
        state.RemoteRegistrationId = message.RegistrationId;
        record.PromoteState(state);
        return true;
    }

    private static byte[] DecryptWithRecord(SessionRecord record, SignalMessage message)
    {
        List<CryptoException>? failures = null;
        if (record.Current is { } current)
        {
            var attempt = current.Clone();
            try
            {
                var plaintext = DecryptWithState(attempt, message);
                record.Current = attempt;
                return plaintext;
            }
            catch (DuplicateMessageException)
            {
                throw;
            }
            catch (CryptoException e)
            {
                (failures ??= []).Add(e);
            }
        }

        var previous = record.PreviousStates;
        for (int i = 0; i < previous.Count; i++)
        {
            var attempt = previous[i].Clone();
            try
            {
                var plaintext = DecryptWithState(attempt, message);
                record.PromoteOldSession(i, attempt);
                return plaintext;
            }
            catch (DuplicateMessageException)
            {
                throw;
            }
            catch (CryptoException e)
            {
                (failures ??= []).Add(e);
            }
        }

        if (failures is null)
        {
            throw new NoSessionException("The session record has no state to decrypt with.");
        }

        if (failures.TrueForAll(f => f is InvalidMacException))
        {
            throw new InvalidMacException($"Message MAC did not verify with any of {failures.Count} session state(s).", failures[0]);
        }

        var first = failures.Find(f => f is not InvalidMacException) ?? failures[0];
        throw new InvalidMessageException($"Message could not be decrypted with any session state: {first.Message}", first);
    }

    /// <summary>Decrypts with one state, advancing its ratchet; the caller passes a copy and keeps it only on success.</summary>
    private static byte[] DecryptWithState(SessionState state, SignalMessage message)
    {
        if (state.Sender is null)
        {
            throw new InvalidMessageException("Session state has no sending chain to ratchet from.");
        }

        if (message.MessageVersion != state.Version)
        {
            throw new InvalidMessageException($"Message version {message.MessageVersion} does not match session version {state.Version}.");
        }

        var remoteIdentity = state.RemoteIdentity ?? throw new InvalidSessionException("Session state has no remote identity.");
        int chain = GetOrCreateReceiverChain(state, message.SenderRatchetKey);
        var keys = GetOrCreateMessageKeys(state, chain, message.Counter);
        try
        {
            if (!message.VerifyMac(remoteIdentity, state.LocalIdentity, keys.MacKey))
            {
                throw new InvalidMacException("Message MAC did not verify.");
            }

            var plaintext = MessageCipher.Decrypt(message.Body.Span, keys.CipherKey, keys.Iv);
            state.PendingPreKey = null;
            return plaintext;
        }
        finally
        {
            keys.Zero();
        }
    }

    private static int GetOrCreateReceiverChain(SessionState state, EcPublicKey theirRatchetKey)
    {
        int existing = state.FindReceiverChainIndex(theirRatchetKey);
        if (existing >= 0)
        {
            return existing;
        }

        // A new remote ratchet key: one DH step for the receiving chain, then a fresh key pair for ours.
        var sender = state.Sender!;
        var (receiveRoot, receiveChain) = RootKey.CreateChain(state.RootKey, theirRatchetKey, sender.RatchetKeyPair.PrivateKey);
        var ourNewRatchetKey = EcKeyPair.Generate();
        var (sendRoot, sendChain) = RootKey.CreateChain(receiveRoot, theirRatchetKey, ourNewRatchetKey.PrivateKey);
        CryptographicOperations.ZeroMemory(receiveRoot);

        state.RootKey = sendRoot;
        int index = state.AddReceiverChain(theirRatchetKey, receiveChain);
        uint currentIndex = sender.ChainKey.Index;
        state.PreviousCounter = currentIndex > 0 ? currentIndex - 1 : 0;
        state.Sender = new SenderChain(ourNewRatchetKey, sendChain);
        return index;
    }

    private static MessageKeys GetOrCreateMessageKeys(SessionState state, int chainIndex, uint counter)
    {
        var chain = state.ReceiverChains[chainIndex];
        var chainKey = chain.ChainKey;
        if (chainKey.Index > counter)
        {
            var skipped = chain.MessageKeys;
            for (int i = 0; i < skipped.Count; i++)
            {
                if (skipped[i].Index == counter)
                {
                    var remaining = new List<SkippedMessageKey>(skipped);
                    remaining.RemoveAt(i);
                    state.ReceiverChains[chainIndex] = new ReceiverChain(chain.RatchetKey, chainKey, remaining);
                    return skipped[i].ToMessageKeys();
                }
            }

            throw new DuplicateMessageException($"Message {counter} was already received (chain is at {chainKey.Index}).");
        }

        uint jump = counter - chainKey.Index;
        if (jump > ProtocolLimits.MaxForwardJumps && !state.IsSelfSession)
        {
            throw new InvalidMessageException(
                $"Message counter {counter} is {jump} ahead of the chain (index {chainKey.Index}); more than the {ProtocolLimits.MaxForwardJumps} skipped messages allowed.");
        }

        // Keep keys for the skipped messages, but never more than the bound: only the newest can still be used.
        uint keepFrom = jump > ProtocolLimits.MaxMessageKeys ? counter - ProtocolLimits.MaxMessageKeys : chainKey.Index;
        List<SkippedMessageKey>? keys = null;
        while (chainKey.Index < counter)
        {
            if (chainKey.Index >= keepFrom)
            {
                keys ??= new List<SkippedMessageKey>(chain.MessageKeys);
                keys.Add(new SkippedMessageKey(chainKey.Index, chainKey.MessageKeySeedBytes(), null));
            }

            chainKey = chainKey.Next();
        }

        if (keys is not null && keys.Count > ProtocolLimits.MaxMessageKeys)
        {
            keys.RemoveRange(0, keys.Count - ProtocolLimits.MaxMessageKeys);
        }

        state.ReceiverChains[chainIndex] = new ReceiverChain(chain.RatchetKey, chainKey.Next(), keys ?? chain.MessageKeys);
        return chainKey.MessageKeys();
    }
}
