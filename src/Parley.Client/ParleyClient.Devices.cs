using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Encryption;
using Parley.Client.Events;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Protocol;

namespace Parley.Client;

// Account identity and signed device lists: the primary device (the one that registered) holds the
// account key and signs the account's device list; every device checks every list it receives
// (signature, account, version) and encrypts only to devices a trusted list names, with the key it
// names. See docs/protocol.md, "Signed device lists".
public sealed partial class ParleyClient
{
    /// <summary>Whether this device is its account's primary: it holds the account key, signs the device list and approves links.</summary>
    public bool IsPrimaryDevice => _store.AccountKeyPair() is not null;

    /// <summary>
    /// This account's identity public key, the key safety numbers are made from (null only for a
    /// profile without encryption keys yet). Linking and removing devices never change it.
    /// </summary>
    public IdentityKey? AccountKey => _store.AccountPublicKey();

    /// <summary>A profile made before account keys gets one from its shared identity key (see ClientStore.MigrateAccountKeys, the SQLite store).</summary>
    private void StartDevices() => _store.MigrateAccountKeys(Credentials.DeviceId);

    /// <summary>At registration: this device becomes the primary, with a new account key.</summary>
    private void CreateAccountKey()
    {
        var pair = IdentityKeyPair.Generate();
        _store.SaveAccountKeys(pair, pair.IdentityKey);
    }

    /// <summary>
    /// Checks a signed list of <paramref name="user"/> from the server and makes it the trusted one:
    /// well-formed, for this user, signed by its account key (for this device's own account: by
    /// this account's key), and not older than the trusted one under the same key. A list under a
    /// new account key of a peer is an identity change (announced). Returns the trusted list
    /// (null when there is none); throws <see cref="ParleyException"/> <c>bad_device_list</c> or
    /// <c>device_list_rolled_back</c> for a list that fails.
    /// </summary>
    private AccountDeviceList? TrustSignedList(string user, SignedDeviceList? signed)
    {
        if (_e2e is null)
        {
            return null;
        }
        if (signed is null)
        {
            return _store.TrustedList(user);
        }
        var list = VerifiedList(user, signed)
            ?? throw new ParleyException(ErrorCode.BadRequest,
                $"The server handed out a device list for {user} that is not validly signed by {user}'s account key; nothing was sent to it.", "bad_device_list");
        if (user == Me && AccountKey is { } own && !own.Serialize().AsSpan().SequenceEqual(list.AccountKey.Span))
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server handed out a device list for this account signed by another account key.", "bad_device_list");
        }
        if (_store.TrustList(user, list, isPeer: user != Me) == TrustOutcome.RolledBack)
        {
            throw new ParleyException(ErrorCode.BadRequest,
                $"The server handed out an older device list for {user} (version {list.Version}) than one already seen; refused.", "device_list_rolled_back");
        }
        RaiseIdentityChanges();
        return _store.TrustedList(user);
    }

    /// <summary>The list inside <paramref name="signed"/> when it is well-formed, for <paramref name="user"/> and validly signed by the account key it names; else null.</summary>
    internal static AccountDeviceList? VerifiedList(string user, SignedDeviceList signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        try
        {
            if (signed.CalculateSize() > WireLimits.MaxSignedDeviceListBytes)
            {
                return null;
            }
            var list = AccountDeviceList.Parser.ParseFrom(signed.List);
            if (list.User != user || list.Devices.Count > WireLimits.MaxListedDevices
                || list.Devices.Select(d => d.DeviceId).Distinct().Count() != list.Devices.Count)
            {
                return null;
            }
            foreach (var device in list.Devices)
            {
                IdentityKey.Deserialize(device.IdentityKey.Span);
            }
            var key = IdentityKey.Deserialize(list.AccountKey.Span);
            return key.VerifySignature(DeviceListSigning.SignedBytes(signed.List), signed.Signature.Span) ? list : null;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or CryptoException)
        {
            return null;
        }
    }

    /// <summary>Like <see cref="TrustSignedList"/> where a failure cannot be reported (a STALE_DEVICES answer): false when the list failed.</summary>
    private bool TryTrustSignedList(string user, SignedDeviceList? signed)
    {
        try
        {
            TrustSignedList(user, signed);
            return true;
        }
        catch (ParleyException)
        {
            return false;
        }
    }

    /// <summary>
    /// Splits the server's devices of <paramref name="user"/> into those the trusted signed list
    /// names (they get a ciphertext) and the rest (they get an empty payload: no session, nothing).
    /// A listed device whose session was made with another key than the listed one loses that
    /// session, so its next bundle is checked against the list. Throws <c>no_device_list</c> when
    /// the user has no signed list yet.
    /// </summary>
    private (List<uint> Listed, List<uint> Unlisted) SplitByList(string user, IReadOnlyList<uint> devices)
    {
        var list = _store.TrustedList(user) ?? throw new ParleyException(ErrorCode.NotFound,
            user == Me
                ? "This account has no signed device list yet: its primary device must connect once; the message was not sent."
                : $"{user} has no signed device list yet (their primary device must connect once); the message was not sent.",
            "no_device_list");
        var listed = new List<uint>();
        var unlisted = new List<uint>();
        foreach (var device in devices)
        {
            var entry = list.Devices.FirstOrDefault(d => d.DeviceId == device);
            if (entry is null)
            {
                unlisted.Add(device);
                continue;
            }
            listed.Add(device);
            if (_store.GetIdentity(new ProtocolAddress(user, device)) is { } known && !known.Serialize().AsSpan().SequenceEqual(entry.IdentityKey.Span))
            {
                _e2e!.ForgetSession(user, device);
            }
        }
        return (listed, unlisted);
    }

    /// <summary>Throws <c>bad_bundle</c> unless the bundle's identity key is the one the trusted list names for its device.</summary>
    private void RequireListed(string user, PreKeyBundle bundle)
    {
        if (_store.ListedIdentity(user, bundle.DeviceId) is not { } listed || !listed.AsSpan().SequenceEqual(bundle.IdentityKey.Span))
        {
            throw new ParleyException(ErrorCode.BadRequest,
                $"{user}'s device {bundle.DeviceId} presented keys that {user}'s signed device list does not name; nothing was sent to it.", "bad_bundle");
        }
    }

    // ───────────────────────── the primary: signing and publishing ─────────────────────────

    /// <summary>
    /// Signs the next list of this account (version one above the last this primary signed): the
    /// devices of the last list, less <paramref name="remove"/>, plus <paramref name="add"/>. Saved
    /// before it is published, so a version is never signed twice with different contents.
    /// </summary>
    private SignedDeviceList SignNextList(ListedDevice? add, uint? remove = null)
    {
        var pair = _store.AccountKeyPair() ?? throw new InvalidOperationException("Only the primary device holds the account key.");
        var previous = _store.OwnSignedList() is { } last ? AccountDeviceList.Parser.ParseFrom(last.List) : null;
        var list = new AccountDeviceList
        {
            User = Me,
            Version = (previous?.Version ?? 0) + 1,
            AccountKey = ByteString.CopyFrom(pair.IdentityKey.Serialize()),
        };
        if (previous is not null)
        {
            list.Devices.AddRange(previous.Devices.Where(d => d.DeviceId != remove && d.DeviceId != add?.DeviceId));
        }
        else
        {
            PreKeyRefill.EnsureIdentity(_store, null);
            list.Devices.Add(new ListedDevice
            {
                DeviceId = Credentials.DeviceId,
                IdentityKey = ByteString.CopyFrom(_store.GetIdentityKeyPair().IdentityKey.Serialize()),
                AddedAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
            });
        }
        if (add is not null)
        {
            list.Devices.Add(add);
        }
        var bytes = list.ToByteString();
        var signed = new SignedDeviceList { List = bytes, Signature = ByteString.CopyFrom(pair.CalculateSignature(DeviceListSigning.SignedBytes(bytes))) };
        _store.SaveOwnSignedList(signed);
        return signed;
    }

    /// <summary>Publishes a signed list on <paramref name="connection"/> and trusts it here.</summary>
    private async Task PublishListAsync(FrameConnection connection, SignedDeviceList signed, CancellationToken cancellationToken)
    {
        await connection.RequestAsync(new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } }, cancellationToken);
        TrustSignedList(Me, signed);
        _store.CacheDevices(Me, []);
    }

    /// <summary>At registration, on the key-upload connection: the primary publishes list version 1 (itself).</summary>
    private async Task PublishFirstListAsync(FrameConnection connection, CancellationToken cancellationToken)
    {
        if (IsPrimaryDevice && _store.OwnSignedList() is null)
        {
            await PublishListAsync(connection, SignNextList(null), cancellationToken);
        }
    }

    /// <summary>
    /// After each connect, in the background: the primary makes sure the server holds its latest
    /// list (a publish that failed earlier is repeated). A primary migrated from before account keys
    /// signs its first list here: every device the server lists, each with the identity key that all
    /// devices of such an account shared (a device the server made up cannot use that key: it lacks
    /// the private half).
    /// </summary>
    private async Task DeviceListUpkeepAsync(Session session, CancellationToken cancellationToken)
    {
        if (_e2e is null || !IsPrimaryDevice)
        {
            return;
        }
        try
        {
            var answer = await session.Connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = Me } }, cancellationToken);
            var published = answer.DeviceList?.Signed is { } s ? VerifiedList(Me, s) : null;
            var own = _store.OwnSignedList();
            if (own is null)
            {
                PreKeyRefill.EnsureIdentity(_store, null);
                var shared = _store.GetIdentityKeyPair().IdentityKey.Serialize();
                foreach (var id in answer.DeviceList?.DeviceIds.Where(d => d != Credentials.DeviceId).Take(WireLimits.MaxListedDevices - 1) ?? [])
                {
                    SignNextList(new ListedDevice { DeviceId = id, IdentityKey = ByteString.CopyFrom(shared), AddedAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() });
                }
                own = _store.OwnSignedList() ?? SignNextList(null);
            }
            // A device that removed itself while this primary was away leaves the next list.
            await DropGoneDevicesAsync(answer.DeviceList, frame => session.Connection.RequestAsync(frame, cancellationToken));
            own = _store.OwnSignedList() ?? own;
            var ownVersion = AccountDeviceList.Parser.ParseFrom(own.List).Version;
            if (published is null || published.Version < ownVersion)
            {
                await PublishListAsync(session.Connection, own, cancellationToken);
            }
        }
        catch (Exception e) when (e is ParleyException or IOException or OperationCanceledException or System.Net.WebSockets.WebSocketException or InvalidProtocolBufferException)
        {
            // The connection ended or the server refused: tried again at the next connect.
        }
    }

    /// <summary>The outbox's hook: trusts a list that came with a device list answer or a STALE_DEVICES error.</summary>
    private bool TrustListForOutbox(string user, SignedDeviceList? signed, bool throwOnFailure)
    {
        if (throwOnFailure)
        {
            TrustSignedList(user, signed);
            return true;
        }
        return TryTrustSignedList(user, signed);
    }

    /// <summary>Opens a short authenticated connection of this device (for work before or outside the main one).</summary>
    private async Task<FrameConnection> OpenShortConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await FrameConnection.OpenAsync(ConnectionSupervisor.WebSocketUri(Credentials.Server, _options), _ => Task.CompletedTask, cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.HelloTimeout);
            await connection.RequestAsync(new ClientFrame { Hello = ConnectionSupervisor.NewHello(Credentials, _options) }, timeout.Token);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The primary adds a device it just created on the server (<paramref name="linked"/>): the new
    /// device gets the account's public key and its own identity key, and the primary signs and
    /// publishes the list that names it.
    /// </summary>
    private async Task AddLinkedDeviceAsync(ParleyClient linked, CancellationToken cancellationToken)
    {
        var accountKey = _store.AccountPublicKey() ?? throw new InvalidOperationException("This profile has no account key.");
        linked._store.SaveAccountKeys(null, accountKey);
        PreKeyRefill.EnsureIdentity(linked._store, null);
        var entry = new ListedDevice
        {
            DeviceId = linked.Credentials.DeviceId,
            IdentityKey = ByteString.CopyFrom(linked._store.GetIdentityKeyPair().IdentityKey.Serialize()),
            AddedAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        if (_store.OwnSignedList() is null)
        {
            SignNextList(null);
        }
        var signed = SignNextList(entry);
        await using var connection = await OpenShortConnectionAsync(cancellationToken);
        await PublishListAsync(connection, signed, cancellationToken);
        await connection.CloseAsync();
    }

    // ───────────────────────── receiving: only listed devices are heard ─────────────────────────

    /// <summary>
    /// Why <paramref name="envelope"/> must not be opened: <c>unlisted_device</c> for a message from a
    /// device the sender's trusted signed list does not name, <c>unlisted_identity</c> for one whose
    /// sender identity key (a PreKey message's own, else the key of the session it continues) is not
    /// the key that list names for the device; null when it may be opened (always without end-to-end
    /// encryption, and for what the receive path drops anyway).
    /// </summary>
    internal string? UnheardReason(Envelope envelope)
    {
        if (_e2e is null || envelope.Kind != EnvelopeKind.Message
            || !UserName.IsValid(envelope.Sender) || (envelope.Sender == Me && envelope.SenderDevice == Credentials.DeviceId))
        {
            return null;
        }
        if (_store.ListedIdentity(envelope.Sender, envelope.SenderDevice) is not { } listed)
        {
            return "unlisted_device";
        }
        // A sender-key (group) ciphertext names no identity key; its distribution came over a 1:1 message checked here.
        return envelope.GroupId.IsEmpty && SenderIdentity(envelope) is { } key && !key.AsSpan().SequenceEqual(listed) ? "unlisted_identity" : null;
    }

    /// <summary>
    /// The identity key a 1:1 payload speaks for: a PreKey message carries its sender's, any other
    /// continues the session with the key last saved for that device. Null when there is none to
    /// compare (no session, or a payload that does not parse: decryption reports those).
    /// </summary>
    private byte[]? SenderIdentity(Envelope envelope)
    {
        var payload = envelope.Payload.Span;
        if (payload.Length < 2)
        {
            return null;
        }
        if ((CiphertextMessageType)(payload[0] & ~SignalPayload.ResendFlag) != CiphertextMessageType.PreKey)
        {
            return _store.GetIdentity(new ProtocolAddress(envelope.Sender, envelope.SenderDevice))?.Serialize();
        }
        try
        {
            return SignalPayload.Decode(payload).Message is PreKeySignalMessage preKey ? preKey.IdentityKey.Serialize() : null;
        }
        catch (CryptoException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="envelope"/> must not be opened as it stands (see <see cref="UnheardReason"/>): its sender's list is fetched once first.</summary>
    internal bool SenderListMissing(Envelope envelope) => UnheardReason(envelope) is not null;

    /// <summary>
    /// Fetches <paramref name="user"/>'s signed list over <paramref name="session"/> and trusts it when
    /// it passes every check (a list that fails is ignored: the unlisted device stays unheard).
    /// </summary>
    internal async Task FetchSenderListAsync(Session session, string user)
    {
        // A server that never answers must not hold the envelopes behind this one forever.
        using var timeout = new CancellationTokenSource(_options.ResponseTimeout, _options.Time);
        var answer = await session.Connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = user } }, timeout.Token);
        TryTrustSignedList(user, answer.DeviceList?.Signed);
    }

    /// <summary>A message from an unlisted device or identity key was dropped unread: reported with <paramref name="reason"/>, never shown, no retry asked, no session stored.</summary>
    internal void OnUnlistedSender(Envelope envelope, string reason) =>
        Raise(DecryptionFailed, new DecryptionFailedEventArgs(envelope.Sender, envelope.SenderDevice,
            envelope.MessageId.Length == WireLimits.MessageIdBytes ? MessageId.ToText(envelope.MessageId.Span) : "",
            reason, retryRequested: false));
}
