using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using WirePreKeyBundle = Parley.Protocol.PreKeyBundle;

namespace Parley.Client.Encryption;

/// <summary>
/// The device's Signal sessions over its SQLite store: starts sessions from server bundles (after
/// checking their signatures), encrypts one payload per remote device, and decrypts an envelope
/// together with committing what it produced. Every operation runs under one lock, which gives
/// Parley.Crypto the one-operation-at-a-time per address it requires.
/// </summary>
internal sealed class EndToEndCipher(IClientStore store, TimeProvider time)
{
    private readonly Lock _gate = new();

    /// <summary>
    /// Whether a session with this device can encrypt now (it exists and is not a stale unanswered one).
    /// A record that no longer parses is deleted, so a fresh session replaces it.
    /// </summary>
    public bool HasUsableSession(string user, uint device)
    {
        var address = new ProtocolAddress(user, device);
        lock (_gate)
        {
            try
            {
                return store.LoadSession(address) is { } record && record.HasUsableSenderChain(time.GetUtcNow());
            }
            catch (InvalidSessionException)
            {
                store.DeleteSession(address);
                return false;
            }
        }
    }

    /// <summary>Deletes the session record with this device (a damaged one), so the peer's next PreKey message starts afresh.</summary>
    public void ForgetSession(string user, uint device)
    {
        lock (_gate)
        {
            store.DeleteSession(new ProtocolAddress(user, device));
        }
    }

    /// <summary>The current session's version with this device (3 = X3DH, 4 = PQXDH), or null without one.</summary>
    public uint? SessionVersion(string user, uint device)
    {
        lock (_gate)
        {
            return store.LoadSession(new ProtocolAddress(user, device)) is { HasCurrentState: true } record ? record.SessionVersion : null;
        }
    }

    /// <summary>
    /// Converts a server bundle and checks it: well-formed keys, and the identity key's signatures on
    /// the signed prekey and the Kyber prekey. Throws <see cref="InvalidKeyException"/> or
    /// <see cref="InvalidSignatureException"/>; a bundle that passes is safe to start a session from.
    /// </summary>
    public static PreKeyBundle Verify(WirePreKeyBundle wire)
    {
        ArgumentNullException.ThrowIfNull(wire);
        if (wire.SignedPrekey is null)
        {
            throw new InvalidKeyException("The bundle has no signed prekey.");
        }
        var bundle = new PreKeyBundle(
            wire.RegistrationId,
            wire.DeviceId,
            wire.OneTimePrekey?.Id,
            wire.OneTimePrekey is { } oneTime ? EcPublicKey.Deserialize(oneTime.PublicKey.Span) : null,
            wire.SignedPrekey.Id,
            EcPublicKey.Deserialize(wire.SignedPrekey.PublicKey.Span),
            wire.SignedPrekey.Signature.Span,
            IdentityKey.Deserialize(wire.IdentityKey.Span),
            wire.KyberPrekey?.Id,
            wire.KyberPrekey is { } kyber ? KemPublicKey.Deserialize(kyber.PublicKey.Span) : null,
            wire.KyberPrekey?.Signature.ToByteArray());
        bundle.VerifySignatures();
        return bundle;
    }

    /// <summary>
    /// Starts a new session with the bundle's device (archiving any current one): X3DH, or PQXDH when
    /// the bundle has a Kyber prekey. A new identity key is recorded (an identity change of the user
    /// is announced by the store); when the user was verified with another key this throws
    /// <see cref="UntrustedIdentityException"/> and no session is made.
    /// </summary>
    public void StartSession(string user, WirePreKeyBundle wire)
    {
        var bundle = Verify(wire);
        var address = new ProtocolAddress(user, wire.DeviceId);
        lock (_gate)
        {
            store.SaveIdentity(address, bundle.IdentityKey);
            new SessionBuilder(store, address, time).ProcessPreKeyBundle(bundle);
        }
    }

    /// <summary>Archives the current session with this device, so the next send needs a fresh bundle.</summary>
    public void ArchiveSession(string user, uint device)
    {
        var address = new ProtocolAddress(user, device);
        lock (_gate)
        {
            if (store.LoadSession(address) is { } record)
            {
                record.ArchiveCurrentState();
                store.StoreSession(address, record);
            }
        }
    }

    /// <summary>Encrypts <paramref name="plaintext"/> for one device; the result is the wire payload (<see cref="SignalPayload"/>).</summary>
    public byte[] Seal(string user, uint device, ReadOnlySpan<byte> plaintext, bool resend)
    {
        lock (_gate)
        {
            var message = new SessionCipher(store, new ProtocolAddress(user, device), time).Encrypt(plaintext);
            return SignalPayload.Encode(message, resend);
        }
    }

    /// <summary>
    /// Decrypts a payload from one device and, in the same store transaction, runs
    /// <paramref name="commit"/> with the content (and the original id, for a resend). If either
    /// fails nothing is stored: the session does not advance without its message.
    /// Throws Parley.Crypto's typed exceptions for payloads that cannot be decrypted.
    /// </summary>
    public T Open<T>(string user, uint device, ReadOnlySpan<byte> payload, Func<byte[], byte[]?, T> commit)
    {
        var (message, resend) = SignalPayload.Decode(payload);
        var cipher = new SessionCipher(store, new ProtocolAddress(user, device), time);
        lock (_gate)
        {
            return store.Atomically(() =>
            {
                var plain = cipher.Decrypt(message);
                if (!resend)
                {
                    return commit(plain, null);
                }
                var (original, content) = SignalPayload.SplitResend(plain);
                return commit(content, original);
            });
        }
    }
}
