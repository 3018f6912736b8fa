using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Encryption;
using Parley.Client.Events;
using Parley.Client.Receiving;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Fingerprints;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client;

// End-to-end encryption: key uploads, sessions per device, encrypted sends and receives, identity
// changes and verification, and self-healing through retry requests. Active unless a custom
// IPayloadCipher is set in the options (tests of the transport alone).
public sealed partial class ParleyClient
{
    /// <summary>At most this many sent plaintexts are kept (a bound on the store whatever the rate).</summary>
    private const int KeepSentCount = 1000;

    /// <summary>Bundle fetches before a send to a device without published keys fails.</summary>
    private const int BundleAttempts = 3;

    private EndToEndCipher? _e2e;
    private readonly Lock _uploadGate = new();
    private bool _uploadRunning;
    private PreKeysLow? _pendingLow;
    private int _preKeyUploads;
    private int _ecRefills;

    /// <summary>A peer's identity key changed; show <see cref="IdentityChangedEventArgs.Warning"/>.</summary>
    public event EventHandler<IdentityChangedEventArgs>? IdentityChanged;

    /// <summary>An envelope could not be decrypted; it was acked and (for a peer's device) a resend was requested.</summary>
    public event EventHandler<DecryptionFailedEventArgs>? DecryptionFailed;

    /// <summary>Key uploads this client has made since it was opened (registration upload included).</summary>
    internal int PreKeyUploads => Volatile.Read(ref _preKeyUploads);

    /// <summary>Uploads that refilled one-time EC prekeys after the server reported them low.</summary>
    internal int EcPreKeyRefills => Volatile.Read(ref _ecRefills);

    /// <summary>The session version with one device of a user (3 = X3DH, 4 = PQXDH), or null without a session.</summary>
    internal uint? SessionVersionWith(string user, uint device) => _e2e?.SessionVersion(user, device);

    /// <summary>Whether this client encrypts end to end (no custom <see cref="ParleyClientOptions.Cipher"/>).</summary>
    internal bool IsEndToEndEncrypted => _e2e is not null;

    private void StartEncryption()
    {
        if (_options.Cipher is null)
        {
            _e2e = new EndToEndCipher(_store, _options.Time);
            StartDevices();
        }
    }

    // ───────────────────────── safety numbers and verification ─────────────────────────

    /// <summary>
    /// The 60-digit safety number for the conversation with <paramref name="peer"/>: the same digits on
    /// both sides while both accounts keep their identity keys. Fetches the peer's keys when none are known.
    /// </summary>
    public async Task<string> GetSafetyNumberAsync(string peer, CancellationToken cancellationToken = default)
    {
        var theirs = await PeerIdentityAsync(peer, cancellationToken);
        // Both sides' account keys: linking or removing a device changes neither.
        var mine = AccountKey ?? throw new InvalidOperationException("This profile has no account key yet.");
        var fingerprint = new FingerprintGenerator().Create(Me, mine, peer, theirs);
        return fingerprint.Displayable.Digits;
    }

    /// <summary>Marks <paramref name="peer"/>'s current identity key verified (after comparing safety numbers). If it later changes, sends to the peer fail until <see cref="AcceptIdentityAsync"/>.</summary>
    /// <remarks>This account's other devices mark the same key verified (an encrypted sync message); returns once the server has that message.</remarks>
    public async Task MarkVerifiedAsync(string peer, CancellationToken cancellationToken = default)
    {
        await PeerIdentityAsync(peer, cancellationToken);
        _store.MarkVerified(peer);
        await SendVerifiedSyncAsync(peer, verified: true, cancellationToken);
    }

    /// <summary>Accepts <paramref name="peer"/>'s new identity key after a change: sends resume (the peer is no longer marked verified, here and on this account's other devices).</summary>
    public async Task AcceptIdentityAsync(string peer, CancellationToken cancellationToken = default)
    {
        RequireEncryption();
        _store.AcceptIdentity(peer);
        await SendVerifiedSyncAsync(peer, verified: false, cancellationToken);
    }

    /// <summary>Clears the verified mark of <paramref name="peer"/>, here and on this account's other devices (an encrypted sync message); returns once the server has that message.</summary>
    public async Task ClearVerifiedAsync(string peer, CancellationToken cancellationToken = default)
    {
        RequireEncryption();
        _store.AcceptIdentity(peer);
        await SendVerifiedSyncAsync(peer, verified: false, cancellationToken);
    }

    /// <summary>Whether <paramref name="peer"/> is marked verified with the identity key known now.</summary>
    public bool IsVerified(string peer) => _e2e is not null && _store.IsVerified(peer);

    /// <summary>Whether <paramref name="peer"/>'s identity key changed and the change was not yet accepted or verified.</summary>
    public bool HasUnacceptedIdentityChange(string peer) => _e2e is not null && _store.IdentityChangedUnacknowledged(peer);

    private async Task<IdentityKey> PeerIdentityAsync(string peer, CancellationToken cancellationToken)
    {
        RequireEncryption();
        if (!UserName.IsValid(peer) || peer == Me)
        {
            throw new ArgumentException("A safety number is with another user.", nameof(peer));
        }
        if (_store.PeerIdentity(peer) is { } known)
        {
            return known;
        }
        // The account key comes with the peer's signed device list (checked and trusted on the way in).
        await GetDevicesAsync(peer, cancellationToken);
        return _store.PeerIdentity(peer) ?? throw new ParleyException(ErrorCode.NotFound, $"{peer} has no signed device list yet, so no account key to compare.", "no_device_list");
    }

    private void RequireEncryption()
    {
        if (_e2e is null)
        {
            throw new InvalidOperationException("End-to-end encryption is replaced by a custom cipher in this client's options.");
        }
    }

    // ───────────────────────── key uploads ─────────────────────────

    /// <summary>
    /// Right after registration or linking: makes (or adopts) the identity, stores the prekeys and
    /// uploads them over a short connection, so peers can message this device before it first
    /// connects. A failure is not fatal: the first connect's PreKeysLow asks again.
    /// </summary>
    private async Task PublishFirstKeysAsync(IdentityKeyPair? accountIdentity, CancellationToken cancellationToken)
    {
        if (_e2e is null)
        {
            return;
        }
        PreKeyRefill.EnsureIdentity(_store, accountIdentity);
        try
        {
            var upload = PreKeyRefill.Build(_store, null, _options.Time.GetUtcNow());
            // Private halves durable before the public ones are published.
            await _store.FlushAsync(cancellationToken);
            await using var connection = await FrameConnection.OpenAsync(ConnectionSupervisor.WebSocketUri(Credentials.Server, _options), _ => Task.CompletedTask, cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.HelloTimeout);
            var hello = ConnectionSupervisor.NewHello(Credentials, _options);
            await connection.RequestAsync(new ClientFrame { Hello = hello }, timeout.Token);
            await connection.RequestAsync(new ClientFrame { UploadPrekeys = upload }, cancellationToken);
            Interlocked.Increment(ref _preKeyUploads);
            await PublishFirstListAsync(connection, cancellationToken);
            await connection.CloseAsync();
        }
        catch (Exception e) when (e is ParleyException or System.Net.WebSockets.WebSocketException or HttpRequestException or IOException or OperationCanceledException)
        {
            // Uploaded on first connect instead (the server reports a device without keys as low).
        }
    }

    /// <summary>
    /// PreKeysLow: refill and/or rotate in the background, one upload at a time, on the connection
    /// that asked. A report arriving during an upload is handled after it, less what that upload sent.
    /// </summary>
    internal void OnPreKeysLow(Session session, PreKeysLow low)
    {
        if (_e2e is null)
        {
            return;
        }
        lock (_uploadGate)
        {
            if (_uploadRunning)
            {
                _pendingLow = low;
                return;
            }
            _uploadRunning = true;
        }
        _ = Task.Run(() => UploadWhileLowAsync(session, low));
    }

    private async Task UploadWhileLowAsync(Session session, PreKeysLow low)
    {
        while (true)
        {
            UploadPreKeys? sent = null;
            try
            {
                PreKeyRefill.EnsureIdentity(_store, null);
                var upload = PreKeyRefill.Build(_store, low, _options.Time.GetUtcNow());
                await _store.FlushAsync(CancellationToken.None);
                await session.Connection.RequestAsync(new ClientFrame { UploadPrekeys = upload }, CancellationToken.None);
                sent = upload;
                Interlocked.Increment(ref _preKeyUploads);
                if (upload.OneTimePrekeys.Count > 0)
                {
                    Interlocked.Increment(ref _ecRefills);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The connection ended, the server refused, or the store failed: the next connect reports the keys low again.
            }
            lock (_uploadGate)
            {
                var next = _pendingLow is { } pending ? PreKeyRefill.WithoutWhatWasSent(pending, sent) : null;
                _pendingLow = null;
                if (next is null || !PreKeyRefill.AsksForKeys(next) || session.Connection.Completion.IsCompleted)
                {
                    _uploadRunning = false;
                    return;
                }
                low = next;
            }
        }
    }

    // ───────────────────────── sending ─────────────────────────

    /// <summary>
    /// Builds the SendMessage for an outbox entry: one payload per device of the peer and per other
    /// device of this account, each encrypted on its own session (started from a fetched bundle when
    /// there is none). Retry requests carry empty payloads; resends go to one device (see
    /// <see cref="BuildResendAsync"/>). Null when there is nothing to send.
    /// </summary>
    private async Task<SendMessage?> BuildSendAsync(Session session, OutboxEntry entry, CancellationToken cancellationToken)
    {
        var send = new SendMessage
        {
            MessageId = ByteString.CopyFrom(entry.Id),
            Recipient = entry.Peer,
            SentAt = entry.SentAt,
            Kind = EnvelopeKind.Message,
        };
        if (Groups.GroupConversation.IsGroup(entry.Peer))
        {
            return await BuildGroupResendAsync(session, entry, cancellationToken);
        }
        // A sync message (ParleyClient.Sync.cs) is addressed to this account: its other devices only.
        var peerDevices = entry.Peer == Me ? [] : await _outbox.DevicesOnAsync(session, entry.Peer, cancellationToken);
        var ownDevices = (await _outbox.DevicesOnAsync(session, Me, cancellationToken)).Where(d => d != Credentials.DeviceId).ToArray();
        if (_e2e is null)
        {
            foreach (var device in peerDevices)
            {
                send.Payloads.Add(await SealAsync(entry.Peer, device, entry.Content, cancellationToken));
            }
            var copy = ownDevices.Length > 0 && !_store.IsRetryRequest(entry.Id) ? OwnDevicesCopy(entry) : entry.Content;
            foreach (var device in ownDevices)
            {
                send.Payloads.Add(await SealAsync(Me, device, copy, cancellationToken));
            }
            return send;
        }

        if (_store.IsRetryRequest(entry.Id))
        {
            // Addressed to the user whose device failed us (and our other devices); to our own account, our other devices.
            send.Kind = EnvelopeKind.RetryRequest;
            if (entry.Peer != Me)
            {
                send.Payloads.AddRange(peerDevices.Select(d => new DevicePayload { User = entry.Peer, DeviceId = d }));
            }
            send.Payloads.AddRange(ownDevices.Select(d => new DevicePayload { User = Me, DeviceId = d }));
            return send;
        }

        if (_store.IsBlockedByVerification(entry.Peer))
        {
            throw IdentityBlocked(entry.Peer);
        }
        // A profile made before encryption has no identity yet: make it now (the next PreKeysLow publishes it).
        PreKeyRefill.EnsureIdentity(_store, null);
        if (_store.ResendOriginal(entry.Id) is { } original)
        {
            return await BuildResendAsync(session, send, entry, original, cancellationToken);
        }
        try
        {
            // Only devices the account's signed list names get a ciphertext; any other device the
            // server lists gets an empty payload (no session, nothing), which its exact-set check needs.
            var (peerListed, peerUnlisted) = entry.Peer == Me ? ([], []) : SplitByList(entry.Peer, peerDevices);
            var (ownListed, ownUnlisted) = ownDevices.Length == 0 ? ([], []) : SplitByList(Me, ownDevices);
            await EnsureSessionsAsync(session, entry.Peer, peerListed, cancellationToken);
            await EnsureSessionsAsync(session, Me, ownListed, cancellationToken);
            foreach (var device in peerListed)
            {
                send.Payloads.Add(SealEncrypted(entry.Peer, device, entry.Content, resend: false));
            }
            // Our other devices get a transcript: where the message went, its id and time, inside the ciphertext.
            var copy = ownListed.Count > 0 ? OwnDevicesCopy(entry) : entry.Content;
            foreach (var device in ownListed)
            {
                send.Payloads.Add(SealEncrypted(Me, device, copy, resend: false));
            }
            send.Payloads.AddRange(peerUnlisted.Select(d => new DevicePayload { User = entry.Peer, DeviceId = d }));
            send.Payloads.AddRange(ownUnlisted.Select(d => new DevicePayload { User = Me, DeviceId = d }));
        }
        catch (CryptoException e)
        {
            // For example a session record that no longer parses: this send fails, the connection and outbox go on.
            throw new ParleyException(ErrorCode.BadRequest, $"Cannot encrypt the message: {e.Message}", "encryption_failed", inner: e);
        }
        // Remembered before it goes out: a fast peer's retry request must find it.
        RememberForResend(entry, send.Payloads);
        return send;
    }

    /// <summary>
    /// A resend goes only to the device that asked for it, and only while that device still has the
    /// identity key the message first went to: a session is started from a fresh bundle only when
    /// the bundle carries that key. A server that forges retry requests or swaps bundles gets the
    /// plaintext encrypted to no one new. Null (dropped, nothing sent) when the identity changed.
    /// </summary>
    private async Task<SendMessage?> BuildResendAsync(Session session, SendMessage send, OutboxEntry entry, byte[] original, CancellationToken cancellationToken)
    {
        if (_store.ResendTarget(entry.Id) is not var (user, device, identity))
        {
            return null; // queued by an older version, without a target: not sent anywhere
        }
        var address = new ProtocolAddress(user, device);
        try
        {
            if (!_e2e!.HasUsableSession(user, device))
            {
                var request = new GetPreKeyBundles { User = user, DeviceId = device };
                var answer = await session.Connection.RequestAsync(new ClientFrame { GetBundles = request }, cancellationToken);
                var bundle = answer.PrekeyBundles?.Bundles.FirstOrDefault(b => b.User == user && b.DeviceId == device);
                if (bundle is null || !EndToEndCipher.Verify(bundle).IdentityKey.Serialize().AsSpan().SequenceEqual(identity))
                {
                    return null;
                }
                _e2e.StartSession(user, bundle);
            }
            if (_store.GetIdentity(address)?.Serialize() is not { } current || !current.AsSpan().SequenceEqual(identity))
            {
                return null;
            }
            send.SingleDevice = true;
            // To one of our own devices a resend is a transcript too, naming the original id.
            var plaintext = user == Me ? OwnDevicesCopy(entry, original) : entry.Content;
            send.Payloads.Add(SealEncrypted(user, device, SignalPayload.ResendPlaintext(original, plaintext), resend: true));
            return send;
        }
        catch (CryptoException)
        {
            // A bundle that fails verification or a session that cannot encrypt: the resend is dropped, never sent elsewhere.
            return null;
        }
    }

    /// <summary>
    /// Remembers a message's plaintext (bounded by age and count), with each device it goes to and
    /// that device's identity key, so a retry request from one of those devices can be answered.
    /// </summary>
    private void RememberForResend(OutboxEntry entry, IEnumerable<DevicePayload> payloads)
    {
        var now = _options.Time.GetUtcNow();
        var devices = new List<(string, uint, byte[])>();
        foreach (var p in payloads)
        {
            if (_store.GetIdentity(new ProtocolAddress(p.User, p.DeviceId)) is { } key)
            {
                devices.Add((p.User, p.DeviceId, key.Serialize()));
            }
        }
        _store.RememberSent(entry.Id, entry.Peer, entry.SentAt, entry.Content, devices, (now - _options.ResendWindow).ToUnixTimeMilliseconds(), KeepSentCount);
    }

    private async Task<DevicePayload> SealAsync(string user, uint device, byte[] content, CancellationToken cancellationToken)
    {
        var payload = await _options.Cipher!.EncryptAsync(user, device, content, cancellationToken);
        return new DevicePayload { User = user, DeviceId = device, Payload = ByteString.CopyFrom(payload) };
    }

    private DevicePayload SealEncrypted(string user, uint device, byte[] plaintext, bool resend)
    {
        try
        {
            var payload = _e2e!.Seal(user, device, plaintext, resend);
            return new DevicePayload { User = user, DeviceId = device, Payload = ByteString.CopyFrom(payload) };
        }
        catch (UntrustedIdentityException)
        {
            RaiseIdentityChanges();
            throw IdentityBlocked(user);
        }
        catch (CryptoException e)
        {
            throw new ParleyException(ErrorCode.BadRequest, $"Cannot encrypt for {user}'s device {device}: {e.Message}", "encryption_failed", inner: e);
        }
    }

    /// <summary>
    /// Makes sure every listed device of <paramref name="user"/> has a usable session: fetches bundles
    /// for those without, verifies them and starts sessions. A device that has published no keys is
    /// asked for again twice (it may be uploading right now), then the send fails with code NotFound
    /// (<c>no_keys</c>): nothing is sent unencrypted.
    /// </summary>
    private async Task EnsureSessionsAsync(Session session, string user, List<uint> devices, CancellationToken cancellationToken)
    {
        var missing = devices.Where(d => !(user == Me && d == Credentials.DeviceId) && !_e2e!.HasUsableSession(user, d)).ToList();
        for (var attempt = 0; missing.Count > 0; attempt++)
        {
            if (attempt == BundleAttempts)
            {
                throw new ParleyException(ErrorCode.NotFound,
                    $"{user}'s device {string.Join(", ", missing)} has not published encryption keys, so nothing can be encrypted for it; the message was not sent.",
                    "no_keys");
            }
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), _options.Time, cancellationToken);
            }
            var request = new GetPreKeyBundles { User = user, DeviceId = missing.Count == 1 ? missing[0] : 0 };
            var answer = await session.Connection.RequestAsync(new ClientFrame { GetBundles = request }, cancellationToken);
            TrustSignedList(user, answer.PrekeyBundles?.Signed);
            foreach (var bundle in answer.PrekeyBundles?.Bundles ?? [])
            {
                if (bundle.User != user || !missing.Contains(bundle.DeviceId))
                {
                    continue;
                }
                RequireListed(user, bundle);
                try
                {
                    _e2e!.StartSession(user, bundle);
                }
                catch (UntrustedIdentityException)
                {
                    RaiseIdentityChanges();
                    throw IdentityBlocked(user);
                }
                catch (CryptoException e)
                {
                    throw new ParleyException(ErrorCode.BadRequest,
                        $"{user}'s device {bundle.DeviceId} published keys that fail verification ({e.Message}); the message was not sent.", "bad_bundle", inner: e);
                }
                RaiseIdentityChanges();
            }
            missing = [.. missing.Where(d => !_e2e!.HasUsableSession(user, d))];
        }
    }

    private static ParleyException IdentityBlocked(string user) => new(ErrorCode.BadRequest,
        $"The safety number with {user} changed and {user} was verified: accept the new key (AcceptIdentityAsync, or `parley verify {user}` after comparing) before sending.",
        "identity_changed");

    // ───────────────────────── receiving ─────────────────────────

    /// <summary>
    /// Decrypts a MESSAGE envelope and stores it in one transaction. A replay is dropped (reported as
    /// an already-stored message); anything undecryptable is reported and, for a peer's device, a
    /// retry request is queued durably before the caller acks.
    /// </summary>
    internal (StoredMessage? Message, bool IsNew) ReceiveEncrypted(Envelope envelope)
    {
        if (envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender))
        {
            return (null, false);
        }
        var fromSelf = envelope.Sender == Me;
        var peer = fromSelf ? envelope.Conversation : envelope.Sender;
        // peer == Me: another of our devices wrote to this one alone (a sender key): decrypted, shown only if group content.
        if (!UserName.IsValid(peer) || (fromSelf && envelope.SenderDevice == Credentials.DeviceId))
        {
            return (null, false);
        }
        PreKeyRefill.EnsureIdentity(_store, null);
        var sync = new SyncEffects();
        try
        {
            var result = _e2e!.Open(envelope.Sender, envelope.SenderDevice, envelope.Payload.Span, (plain, original) =>
            {
                Content content;
                try
                {
                    content = Content.Parser.ParseFrom(plain);
                }
                catch (InvalidProtocolBufferException)
                {
                    // Authentic but not a Content we understand: keep the session step, show nothing.
                    return ((StoredMessage?)null, false);
                }
                if (content.BodyCase == Content.BodyOneofCase.Sync)
                {
                    return OpenSync(content.Sync, envelope, original, sync);
                }
                if (fromSelf && content.BodyCase is Content.BodyOneofCase.Text or Content.BodyOneofCase.Attachment or Content.BodyOneofCase.Group)
                {
                    // A copy of our own message names its chat only in a transcript: the envelope's conversation is the server's word.
                    sync.Rejected = SyncWithoutTranscript;
                    return (null, false);
                }
                if (content.BodyCase is Content.BodyOneofCase.SenderKeyDistribution or Content.BodyOneofCase.Group)
                {
                    return OpenGroupControl(content, envelope, original);
                }
                if (peer == Me || ShownText(content, out var pointer) is not { } text)
                {
                    return (null, false);
                }
                var id = original ?? envelope.MessageId.ToByteArray();
                var message = InboundProcessor.ReceivedText(MessageId.ToText(id), peer, fromSelf, envelope, text);
                return (message, StoreReceived(message, id, pointer));
            });
            RaiseIdentityChanges();
            RaiseSyncEffects(sync, envelope);
            return result;
        }
        catch (DuplicateMessageException)
        {
            // A replay or a redelivery of what we already decrypted and stored: ack it, never show it twice.
            return (_store.Find(envelope.MessageId.ToByteArray()), false);
        }
        catch (CryptoException e)
        {
            if (e is InvalidSessionException)
            {
                // The stored record is damaged: drop it so the resend's PreKey message can start a new one.
                _e2e!.ForgetSession(envelope.Sender, envelope.SenderDevice);
            }
            // Queued durably before the caller acks: the sender's device resends on a fresh session.
            _store.AddRetryRequest(envelope.MessageId.ToByteArray(), envelope.Sender, _options.Time.GetUtcNow().ToUnixTimeMilliseconds());
            _outbox.Wake();
            Raise(DecryptionFailed, new DecryptionFailedEventArgs(envelope.Sender, envelope.SenderDevice,
                MessageId.ToText(envelope.MessageId.Span), e.GetType().Name, retryRequested: true));
            return (null, false);
        }
    }

    /// <summary>
    /// A device could not decrypt one of our messages: if this device sent it to that very device
    /// within <see cref="ParleyClientOptions.ResendWindow"/>, archive the session with it and queue
    /// a resend to it alone (fresh envelope id, original id inside the ciphertext) that starts a new
    /// session from a fresh bundle with the same identity key. Anything else is ignored.
    /// </summary>
    internal void OnRetryRequest(Envelope envelope)
    {
        if (_e2e is null || envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender)
            || (envelope.Sender == Me && envelope.SenderDevice == Credentials.DeviceId))
        {
            return;
        }
        var original = envelope.MessageId.ToByteArray();
        // Only the device that sent the message remembers it, and only a device it went to may ask
        // for it, within the resend window; the resend goes to that device's identity key alone.
        long oldest = (_options.Time.GetUtcNow() - _options.ResendWindow).ToUnixTimeMilliseconds();
        if (_store.FindSent(original) is not { } sent || sent.SentAt < oldest
            || _store.SentIdentity(original, envelope.Sender, envelope.SenderDevice) is not { } identity)
        {
            return;
        }
        _e2e.ArchiveSession(envelope.Sender, envelope.SenderDevice);
        if (Groups.GroupConversation.IsGroup(sent.Peer))
        {
            // It lost our sender key (or never got it): the next group message sends it again.
            _store.ForgetSenderKeyHolder(envelope.Sender, envelope.SenderDevice);
        }
        _store.AddResend(MessageId.New(_options.Time), original, sent.Peer, sent.SentAt, sent.Content, envelope.Sender, envelope.SenderDevice, identity);
        _outbox.Wake();
    }

    private void RaiseIdentityChanges()
    {
        foreach (var user in _store.TakeIdentityChanges())
        {
            Raise(IdentityChanged, new IdentityChangedEventArgs(user, _store.IsBlockedByVerification(user)));
        }
    }
}
