using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Parley.Client.Media;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;
using Parley.Protocol;

namespace Parley.Client.Storage;

/// <summary>
/// The client store where SQLite cannot run (the browser): every table held in memory, loaded at
/// open from an <see cref="IKeyValuePersistence"/> (IndexedDB there) and written back in batches.
/// Same rules as the SQLite ClientStore (the contract tests hold both to them). Durability is
/// explicit: a change is in memory at once and persisted by the next <see cref="FlushAsync"/>
/// (scheduled after each change, and awaited by the client before anything that depends on it
/// leaves the device: an ack, a send, a key upload). <see cref="Atomically{T}"/> undoes every
/// change of a failed unit, so a batch never holds half of one. Thread-safe.
/// </summary>
internal sealed partial class KeyValueClientStore : IClientStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private readonly IKeyValuePersistence _persistence;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly ConcurrentQueue<string> _identityChanges = new();
    private readonly Dictionary<(string Collection, string Key), byte[]?> _dirty = [];
    private List<Action>? _undo;
    private bool _flushScheduled;
    private long _nextOrder = 1;
    private long _nextPosition = 1;

    private readonly Table<string> _config = new("config");
    private readonly Table<MessageRow> _messages;
    private readonly Table<OutboxRow> _outbox = new("outbox");
    private readonly Table<uint[]> _devices = new("devices");
    private readonly Table<byte[]> _preKeys = new("prekeys");
    private readonly Table<SignedPreKeyRow> _signedPreKeys = new("signed_prekeys");
    private readonly Table<KyberPreKeyRow> _kyberPreKeys = new("kyber_prekeys");
    private readonly Table<SessionRow> _sessions = new("sessions");
    private readonly Table<DeviceIdentityRow> _deviceIdentities = new("device_identities");
    private readonly Table<PeerIdentityRow> _peerIdentities = new("peer_identities");
    private readonly Table<RecentSendRow> _recentSends = new("recent_sends");
    private readonly Table<SentDeviceRow> _sentDevices = new("sent_devices");
    private readonly Table<byte[]> _resends = new("resends");
    private readonly Table<ResendTargetRow> _resendTargets = new("resend_targets");
    private readonly Table<string> _retryRequests = new("retry_requests");
    private readonly Table<UploadRow> _uploads = new("uploads");
    private readonly Table<AttachmentRow> _attachments = new("attachments");

    private KeyValueClientStore(IKeyValuePersistence persistence)
    {
        _persistence = persistence;
        _messages = new("messages") { Changed = IndexMessage, Decode = ReadMessageRow };
    }

    /// <summary>Called with each refusal of the persistence (scheduled flushes included, which have no caller to throw to).</summary>
    public Action<ParleyException>? WriteRefused { get; set; }

    /// <summary>Reads every collection from <paramref name="persistence"/> into a new store.</summary>
    public static async Task<KeyValueClientStore> LoadAsync(IKeyValuePersistence persistence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        var store = new KeyValueClientStore(persistence);
        // Every collection is asked for at once: IndexedDB serves the reads side by side, so a start
        // waits for the slowest read (the messages) rather than for the sum of 23 round trips.
        await Task.WhenAll(
            store.LoadTableAsync(store._config, cancellationToken),
            store.LoadTableAsync(store._messages, cancellationToken),
            store.LoadTableAsync(store._outbox, cancellationToken),
            store.LoadTableAsync(store._devices, cancellationToken),
            store.LoadTableAsync(store._preKeys, cancellationToken),
            store.LoadTableAsync(store._signedPreKeys, cancellationToken),
            store.LoadTableAsync(store._kyberPreKeys, cancellationToken),
            store.LoadTableAsync(store._sessions, cancellationToken),
            store.LoadTableAsync(store._deviceIdentities, cancellationToken),
            store.LoadTableAsync(store._peerIdentities, cancellationToken),
            store.LoadTableAsync(store._recentSends, cancellationToken),
            store.LoadTableAsync(store._sentDevices, cancellationToken),
            store.LoadTableAsync(store._resends, cancellationToken),
            store.LoadTableAsync(store._resendTargets, cancellationToken),
            store.LoadTableAsync(store._retryRequests, cancellationToken),
            store.LoadTableAsync(store._uploads, cancellationToken),
            store.LoadTableAsync(store._attachments, cancellationToken),
            store.LoadTableAsync(store._pendingHistory, cancellationToken),
            store.LoadGroupTablesAsync(cancellationToken),
            store.LoadTableAsync(store._trustedLists, cancellationToken));
        // At least 1: history's negative orders (IMessageStore.InsertReceived) must not pull it down into theirs.
        store._nextOrder = Math.Max(0, store._messages.Rows.Values.Select(m => m.Order).DefaultIfEmpty(0).Max()) + 1;
        store._nextPosition = store._outbox.Rows.Values.Select(o => o.Position).DefaultIfEmpty(0).Max() + 1;
        return store;
    }

    /// <summary>Writes every change made so far; throws <see cref="ParleyException"/> (<c>storage_failed</c>) when the persistence refuses, keeping the changes for the next try.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushGate.WaitAsync(cancellationToken);
        try
        {
            List<PersistedWrite> batch;
            lock (_gate)
            {
                _flushScheduled = false;
                batch = [.. _dirty.Select(d => new PersistedWrite(d.Key.Collection, d.Key.Key, d.Value))];
                _dirty.Clear();
            }
            if (batch.Count == 0)
            {
                return;
            }
            try
            {
                await _persistence.WriteAsync(batch, cancellationToken);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    // Back in the queue unless a newer change of the same key superseded it.
                    foreach (var write in batch)
                    {
                        _dirty.TryAdd((write.Collection, write.Key), write.Value);
                    }
                }
                if (e is OperationCanceledException)
                {
                    throw;
                }
                var refused = new ParleyException(ErrorCode.Internal, $"The device's storage refused the write: {e.Message}", "storage_failed", inner: e);
                WriteRefused?.Invoke(refused);
                throw refused;
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    public T Atomically<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        lock (_gate)
        {
            if (_undo is not null)
            {
                return work(); // already inside a unit: it commits or rolls back as a whole
            }
            _undo = [];
            try
            {
                var result = work();
                _undo = null;
                return result;
            }
            catch
            {
                var undo = _undo!;
                _undo = null;
                for (var i = undo.Count - 1; i >= 0; i--)
                {
                    undo[i]();
                }
                throw;
            }
        }
    }

    public void Dispose() => _flushGate.Dispose();

    // ───────────── credentials ─────────────

    public DeviceCredentialsProfile? LoadCredentials()
    {
        lock (_gate)
        {
            var server = Get(_config, "server");
            var user = Get(_config, "user");
            var device = Get(_config, "device_id");
            var password = Get(_config, "password");
            if (server is null || user is null || device is null || password is null)
            {
                return null;
            }
            return new DeviceCredentialsProfile(new Uri(server), user, uint.Parse(device, CultureInfo.InvariantCulture), password);
        }
    }

    public void SaveCredentials(DeviceCredentialsProfile credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        Atomically(() =>
        {
            Set(_config, "server", credentials.Server.ToString());
            Set(_config, "user", credentials.User);
            Set(_config, "device_id", credentials.DeviceId.ToString(CultureInfo.InvariantCulture));
            Set(_config, "password", credentials.Password);
            return true;
        });
    }

    // ───────────── messages and outbox ─────────────

    public void AddOutgoing(byte[] id, string peer, string sender, uint senderDevice, string text, long sentAt, byte[] content) => Atomically(() =>
    {
        var key = MessageKey(sender, id);
        if (_messages.Rows.ContainsKey(key) || _outbox.Rows.ContainsKey(Hex(id)))
        {
            throw new InvalidOperationException("A message with this id is already stored.");
        }
        Set(_messages, key, new MessageRow(id, sender, senderDevice, peer, MessageDirection.Outgoing, text, sentAt, MessageStatus.Pending, true, _nextOrder++));
        Set(_outbox, Hex(id), new OutboxRow(_nextPosition++, id, peer, sentAt, content));
        return true;
    });

    public OutboxEntry? NextOutbox()
    {
        lock (_gate)
        {
            var next = _outbox.Rows.Values.MinBy(o => o.Position);
            return next is null ? null : new OutboxEntry(next.Id, next.Peer, next.SentAt, next.Content);
        }
    }

    public IReadOnlyList<byte[]> OutboxIds()
    {
        lock (_gate)
        {
            return [.. _outbox.Rows.Values.OrderBy(o => o.Position).Select(o => o.Id)];
        }
    }

    public bool InOutbox(byte[] id)
    {
        lock (_gate)
        {
            return _outbox.Rows.ContainsKey(Hex(id));
        }
    }

    public int OutboxCount()
    {
        lock (_gate)
        {
            return _outbox.Rows.Count;
        }
    }

    public bool CompleteOutbox(byte[] id, string sender) => Atomically(() =>
    {
        Set(_outbox, Hex(id), null);
        var key = MessageKey(sender, id);
        if (_messages.Rows.TryGetValue(key, out var m) && m.Status == MessageStatus.Pending)
        {
            Set(_messages, key, m with { Status = MessageStatus.Sent });
            return true;
        }
        return false;
    });

    public void FailOutbox(byte[] id, string sender) => Atomically(() =>
    {
        Set(_outbox, Hex(id), null);
        var key = MessageKey(sender, id);
        if (_messages.Rows.TryGetValue(key, out var m) && m.Status == MessageStatus.Pending)
        {
            Set(_messages, key, m with { Status = MessageStatus.Failed });
        }
        return true;
    });

    public bool Requeue(byte[] id, string sender, byte[] content) => Atomically(() =>
    {
        if (!_messages.Rows.TryGetValue(MessageKey(sender, id), out var m) || m.Direction != MessageDirection.Outgoing)
        {
            return false;
        }
        if (!_outbox.Rows.ContainsKey(Hex(id)))
        {
            Set(_outbox, Hex(id), new OutboxRow(_nextPosition++, id, m.Peer, m.SentAt, content));
        }
        return true;
    });

    public StoredMessage? Advance(string sender, string peer, byte[] id, MessageStatus status)
    {
        lock (_gate)
        {
            var key = MessageKey(sender, id);
            if (!_messages.Rows.TryGetValue(key, out var m) || m.Peer != peer || m.Status >= status || m.Status == MessageStatus.Failed)
            {
                return null;
            }
            var moved = m with { Status = status };
            Set(_messages, key, moved);
            return moved.ToStored();
        }
    }

    public bool InsertReceived(StoredMessage message, byte[] id, long? order = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
        {
            var key = MessageKey(message.Sender, id);
            if (_messages.Rows.ContainsKey(key))
            {
                return false;
            }
            Set(_messages, key, new MessageRow(id, message.Sender, message.SenderDevice, message.Peer, message.Direction, message.Text,
                message.SentAt.ToUnixTimeMilliseconds(), message.Status, false, order ?? _nextOrder++));
            return true;
        }
    }

    public IReadOnlyList<StoredMessage> TakeUnshown(string? peer = null) => Atomically(() =>
    {
        var unshown = _unshown.Values.Select(k => KeyValuePair.Create(k, _messages.Rows[k])).Where(r => peer is null || r.Value.Peer == peer).ToList();
        foreach (var (key, row) in unshown)
        {
            Set(_messages, key, row with { Shown = true });
        }
        return (IReadOnlyList<StoredMessage>)[.. unshown.Select(r => r.Value.ToStored())];
    });

    public StoredMessage? Find(byte[] id)
    {
        lock (_gate)
        {
            return _messages.Rows.Values.Where(m => m.Id.AsSpan().SequenceEqual(id)).MinBy(m => m.Order)?.ToStored();
        }
    }

    public IReadOnlyList<StoredMessage> Conversation(string peer, int limit)
    {
        lock (_gate)
        {
            return Page(peer, long.MaxValue, limit);
        }
    }

    public IReadOnlyList<uint>? CachedDevices(string user)
    {
        lock (_gate)
        {
            return _devices.Rows.TryGetValue(user, out var ids) ? ids : null;
        }
    }

    public void CacheDevices(string user, IEnumerable<uint> deviceIds)
    {
        uint[] ids = [.. deviceIds.Distinct().Order()];
        lock (_gate)
        {
            Set(_devices, user, ids);
        }
    }

    // ───────────── own identity and key bookkeeping ─────────────

    public IReadOnlyList<string> TakeIdentityChanges()
    {
        var list = new List<string>();
        while (_identityChanges.TryDequeue(out var user))
        {
            list.Add(user);
        }
        return list;
    }

    public bool HasIdentity()
    {
        lock (_gate)
        {
            return Get(_config, "identity_key_pair") is not null;
        }
    }

    public void SaveOwnIdentity(IdentityKeyPair identity, uint registrationId)
    {
        ArgumentNullException.ThrowIfNull(identity);
        Atomically(() =>
        {
            Set(_config, "identity_key_pair", Convert.ToBase64String(identity.Serialize()));
            Set(_config, "registration_id", registrationId.ToString(CultureInfo.InvariantCulture));
            return true;
        });
    }

    public uint NextKeyId(string kind, uint count)
    {
        lock (_gate)
        {
            var key = "next_id_" + kind;
            var next = Get(_config, key) is { } text ? uint.Parse(text, CultureInfo.InvariantCulture) : 1u;
            var after = (next + count - 1) % 0xFFFFFF + 1;
            Set(_config, key, after.ToString(CultureInfo.InvariantCulture));
            return next;
        }
    }

    public long? NewestSignedPreKeyTime()
    {
        lock (_gate)
        {
            return _signedPreKeys.Rows.Count == 0 ? null : _signedPreKeys.Rows.Values.Max(s => s.CreatedAt);
        }
    }

    public uint? NewestSignedPreKeyId()
    {
        lock (_gate)
        {
            return _signedPreKeys.Rows.Values.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id).FirstOrDefault()?.Id;
        }
    }

    public void AddSignedPreKey(SignedPreKeyRecord record, long createdAt, long forgetBefore)
    {
        ArgumentNullException.ThrowIfNull(record);
        Atomically(() =>
        {
            Set(_signedPreKeys, Id(record.Id), new SignedPreKeyRow(record.Id, record.Serialize(), createdAt));
            foreach (var old in _signedPreKeys.Rows.Values.Where(s => s.CreatedAt < forgetBefore && s.Id != record.Id).ToList())
            {
                Set(_signedPreKeys, Id(old.Id), null);
            }
            return true;
        });
    }

    public void AddKyberPreKeys(IEnumerable<KyberPreKeyRecord> records, bool lastResort, long createdAt, long forgetBefore = 0)
    {
        ArgumentNullException.ThrowIfNull(records);
        Atomically(() =>
        {
            uint? newest = null;
            foreach (var record in records)
            {
                Set(_kyberPreKeys, Id(record.Id), new KyberPreKeyRow(record.Id, record.Serialize(), lastResort, createdAt));
                newest = record.Id;
            }
            if (lastResort && newest is { } keep)
            {
                foreach (var old in _kyberPreKeys.Rows.Values.Where(k => k.LastResort && k.CreatedAt < forgetBefore && k.Id != keep).ToList())
                {
                    Set(_kyberPreKeys, Id(old.Id), null);
                }
            }
            return true;
        });
    }

    public bool HasKyberLastResort()
    {
        lock (_gate)
        {
            return _kyberPreKeys.Rows.Values.Any(k => k.LastResort);
        }
    }

    public void AddPreKeys(IEnumerable<PreKeyRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        Atomically(() =>
        {
            foreach (var record in records)
            {
                Set(_preKeys, Id(record.Id), record.Serialize());
            }
            return true;
        });
    }

    // ───────────── peer identities (verification) ─────────────

    public IdentityKey? PeerIdentity(string user)
    {
        lock (_gate)
        {
            return _peerIdentities.Rows.TryGetValue(user, out var p) ? IdentityKey.Deserialize(p.Key) : null;
        }
    }

    public bool IsBlockedByVerification(string user)
    {
        lock (_gate)
        {
            return _peerIdentities.Rows.TryGetValue(user, out var p) && p.VerifiedKey is not null && !p.Key.AsSpan().SequenceEqual(p.VerifiedKey);
        }
    }

    public bool IsVerified(string user)
    {
        lock (_gate)
        {
            return _peerIdentities.Rows.TryGetValue(user, out var p) && p.VerifiedKey is not null && p.Key.AsSpan().SequenceEqual(p.VerifiedKey);
        }
    }

    public bool MarkVerified(string user)
    {
        lock (_gate)
        {
            if (!_peerIdentities.Rows.TryGetValue(user, out var p))
            {
                return false;
            }
            Set(_peerIdentities, user, p with { VerifiedKey = p.Key, Changed = false });
            return true;
        }
    }

    public bool AcceptIdentity(string user)
    {
        lock (_gate)
        {
            if (!_peerIdentities.Rows.TryGetValue(user, out var p))
            {
                return false;
            }
            Set(_peerIdentities, user, p with { VerifiedKey = null, Changed = false });
            return true;
        }
    }

    public bool IdentityChangedUnacknowledged(string user)
    {
        lock (_gate)
        {
            return _peerIdentities.Rows.TryGetValue(user, out var p) && p.Changed;
        }
    }

    // ───────────── recent sends, resends, retry requests ─────────────

    public void RememberSent(byte[] id, string peer, long sentAt, byte[] content, IReadOnlyList<(string User, uint Device, byte[] Identity)> devices,
        long forgetBefore, int keep)
    {
        ArgumentNullException.ThrowIfNull(devices);
        Atomically(() =>
        {
            if (!_recentSends.Rows.ContainsKey(Hex(id)))
            {
                Set(_recentSends, Hex(id), new RecentSendRow(id, peer, sentAt, content));
            }
            foreach (var (user, device, identity) in devices)
            {
                var key = $"{Hex(id)}/{user}/{Id(device)}";
                if (!_sentDevices.Rows.ContainsKey(key))
                {
                    Set(_sentDevices, key, new SentDeviceRow(id, user, device, identity));
                }
            }
            var kept = _recentSends.Rows.Values.Where(s => s.SentAt >= forgetBefore).OrderByDescending(s => s.SentAt).Take(keep)
                .Select(s => Hex(s.Id)).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in _recentSends.Rows.Keys.Where(k => !kept.Contains(k)).ToList())
            {
                Set(_recentSends, gone, null);
            }
            foreach (var (key, row) in _sentDevices.Rows.Where(r => !kept.Contains(Hex(r.Value.Id))).ToList())
            {
                Set(_sentDevices, key, null);
            }
            return true;
        });
    }

    public (string Peer, long SentAt, byte[] Content)? FindSent(byte[] id)
    {
        lock (_gate)
        {
            return _recentSends.Rows.TryGetValue(Hex(id), out var s) ? (s.Peer, s.SentAt, s.Content) : null;
        }
    }

    public byte[]? SentIdentity(byte[] id, string user, uint device)
    {
        lock (_gate)
        {
            return _sentDevices.Rows.TryGetValue($"{Hex(id)}/{user}/{Id(device)}", out var s) ? s.Identity : null;
        }
    }

    public void AddResend(byte[] id, byte[] original, string peer, long sentAt, byte[] content, string user, uint device, byte[] identity) => Atomically(() =>
    {
        var key = Hex(id);
        if (!_resends.Rows.ContainsKey(key))
        {
            Set(_resends, key, original);
        }
        if (!_resendTargets.Rows.ContainsKey(key))
        {
            Set(_resendTargets, key, new ResendTargetRow(user, device, identity));
        }
        if (!_outbox.Rows.ContainsKey(key))
        {
            Set(_outbox, key, new OutboxRow(_nextPosition++, id, peer, sentAt, content));
        }
        return true;
    });

    public (string User, uint Device, byte[] Identity)? ResendTarget(byte[] id)
    {
        lock (_gate)
        {
            return _resendTargets.Rows.TryGetValue(Hex(id), out var t) ? (t.User, t.Device, t.Identity) : null;
        }
    }

    public byte[]? ResendOriginal(byte[] id)
    {
        lock (_gate)
        {
            return _resends.Rows.TryGetValue(Hex(id), out var original) ? original : null;
        }
    }

    public void AddRetryRequest(byte[] id, string peer, long sentAt) => Atomically(() =>
    {
        var key = Hex(id);
        if (!_retryRequests.Rows.ContainsKey(key))
        {
            Set(_retryRequests, key, key);
        }
        if (!_outbox.Rows.ContainsKey(key))
        {
            Set(_outbox, key, new OutboxRow(_nextPosition++, id, peer, sentAt, []));
        }
        return true;
    });

    public bool IsRetryRequest(byte[] id)
    {
        lock (_gate)
        {
            return _retryRequests.Rows.ContainsKey(Hex(id));
        }
    }

    // ───────────── media ─────────────

    public UploadState? FindUpload(string peer, string filePath)
    {
        lock (_gate)
        {
            return _uploads.Rows.TryGetValue($"{peer}/{filePath}", out var u) ? u.ToState() : null;
        }
    }

    public void SaveUpload(UploadState upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        lock (_gate)
        {
            Set(_uploads, $"{upload.Peer}/{upload.FilePath}", UploadRow.From(upload));
        }
    }

    public void DeleteUpload(string peer, string filePath)
    {
        lock (_gate)
        {
            Set(_uploads, $"{peer}/{filePath}", null);
        }
    }

    public void AddAttachment(string sender, byte[] messageId, byte[] pointer, string? savedPath)
    {
        lock (_gate)
        {
            var key = MessageKey(sender, messageId);
            if (!_attachments.Rows.ContainsKey(key))
            {
                Set(_attachments, key, new AttachmentRow(sender, messageId, pointer, savedPath));
            }
        }
    }

    public (string Sender, byte[] Pointer, string? SavedPath)? FindAttachment(byte[] messageId)
    {
        lock (_gate)
        {
            var a = _attachments.Rows.Values.FirstOrDefault(a => a.MessageId.AsSpan().SequenceEqual(messageId));
            return a is null ? null : (a.Sender, a.Pointer, a.SavedPath);
        }
    }

    public void SetAttachmentPath(string sender, byte[] messageId, string savedPath)
    {
        lock (_gate)
        {
            var key = MessageKey(sender, messageId);
            if (_attachments.Rows.TryGetValue(key, out var a))
            {
                Set(_attachments, key, a with { SavedPath = savedPath });
            }
        }
    }

    // ───────────── IProtocolStore ─────────────

    public IdentityKeyPair GetIdentityKeyPair()
    {
        lock (_gate)
        {
            var text = Get(_config, "identity_key_pair") ?? throw new InvalidOperationException("This profile has no identity key yet.");
            return IdentityKeyPair.Deserialize(Convert.FromBase64String(text));
        }
    }

    public uint GetLocalRegistrationId()
    {
        lock (_gate)
        {
            var text = Get(_config, "registration_id") ?? throw new InvalidOperationException("This profile has no registration id yet.");
            return uint.Parse(text, CultureInfo.InvariantCulture);
        }
    }

    public bool SaveIdentity(ProtocolAddress address, IdentityKey identityKey)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(identityKey);
        var key = identityKey.Serialize();
        lock (_gate)
        {
            var deviceKey = $"{address.Name}/{Id(address.DeviceId)}";
            var old = _deviceIdentities.Rows.TryGetValue(deviceKey, out var d) ? d.Key : null;
            if (old is null || !old.AsSpan().SequenceEqual(key))
            {
                Set(_deviceIdentities, deviceKey, new DeviceIdentityRow(address.Name, address.DeviceId, key));
            }
            // Device keys differ per device; the user's identity is the account key of its signed list (TrustList).
            return old is not null && !old.AsSpan().SequenceEqual(key);
        }
    }

    public bool IsTrustedIdentity(ProtocolAddress address, IdentityKey identityKey, Direction direction)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(identityKey);
        if (direction == Direction.Receiving)
        {
            // Incoming messages are always read (the change is announced); only sending to a changed, verified peer stops.
            return true;
        }
        if (IsBlockedByVerification(address.Name))
        {
            return false;
        }
        // Only a device the account's signed list names, with the key it names, is sent to.
        return TrustedList(address.Name) is not { } list
            || list.Devices.Any(d => d.DeviceId == address.DeviceId && d.IdentityKey.Span.SequenceEqual(identityKey.Serialize()));
    }

    public IdentityKey? GetIdentity(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            return _deviceIdentities.Rows.TryGetValue($"{address.Name}/{Id(address.DeviceId)}", out var d) ? IdentityKey.Deserialize(d.Key) : null;
        }
    }

    public PreKeyRecord? LoadPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return _preKeys.Rows.TryGetValue(Id(preKeyId), out var r) ? PreKeyRecord.Deserialize(r) : null;
        }
    }

    public void StorePreKey(uint preKeyId, PreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Set(_preKeys, Id(preKeyId), record.Serialize());
        }
    }

    public bool ContainsPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return _preKeys.Rows.ContainsKey(Id(preKeyId));
        }
    }

    public void RemovePreKey(uint preKeyId)
    {
        lock (_gate)
        {
            Set(_preKeys, Id(preKeyId), null);
        }
    }

    public SignedPreKeyRecord? LoadSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return _signedPreKeys.Rows.TryGetValue(Id(signedPreKeyId), out var s) ? SignedPreKeyRecord.Deserialize(s.Record) : null;
        }
    }

    public IReadOnlyList<SignedPreKeyRecord> LoadSignedPreKeys()
    {
        lock (_gate)
        {
            return [.. _signedPreKeys.Rows.Values.OrderBy(s => s.Id).Select(s => SignedPreKeyRecord.Deserialize(s.Record))];
        }
    }

    public void StoreSignedPreKey(uint signedPreKeyId, SignedPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Set(_signedPreKeys, Id(signedPreKeyId), new SignedPreKeyRow(signedPreKeyId, record.Serialize(), (long)record.TimestampMilliseconds));
        }
    }

    public bool ContainsSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return _signedPreKeys.Rows.ContainsKey(Id(signedPreKeyId));
        }
    }

    public void RemoveSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            Set(_signedPreKeys, Id(signedPreKeyId), null);
        }
    }

    public KyberPreKeyRecord? LoadKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return _kyberPreKeys.Rows.TryGetValue(Id(kyberPreKeyId), out var k) ? KyberPreKeyRecord.Deserialize(k.Record) : null;
        }
    }

    public IReadOnlyList<KyberPreKeyRecord> LoadKyberPreKeys()
    {
        lock (_gate)
        {
            return [.. _kyberPreKeys.Rows.Values.OrderBy(k => k.Id).Select(k => KyberPreKeyRecord.Deserialize(k.Record))];
        }
    }

    public void StoreKyberPreKey(uint kyberPreKeyId, KyberPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Set(_kyberPreKeys, Id(kyberPreKeyId), new KyberPreKeyRow(kyberPreKeyId, record.Serialize(), false, (long)record.TimestampMilliseconds));
        }
    }

    public bool ContainsKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return _kyberPreKeys.Rows.ContainsKey(Id(kyberPreKeyId));
        }
    }

    public void MarkKyberPreKeyUsed(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            // One-time keys go; the last-resort key stays until it is rotated.
            if (_kyberPreKeys.Rows.TryGetValue(Id(kyberPreKeyId), out var k) && !k.LastResort)
            {
                Set(_kyberPreKeys, Id(kyberPreKeyId), null);
            }
        }
    }

    public SessionRecord? LoadSession(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            return _sessions.Rows.TryGetValue($"{address.Name}/{Id(address.DeviceId)}", out var s) ? SessionRecord.Deserialize(s.Record) : null;
        }
    }

    public IReadOnlyList<uint> GetSubDeviceSessions(string name)
    {
        lock (_gate)
        {
            return [.. _sessions.Rows.Values.Where(s => s.User == name && s.Device != 1).Select(s => s.Device).Order()];
        }
    }

    public void StoreSession(ProtocolAddress address, SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Set(_sessions, $"{address.Name}/{Id(address.DeviceId)}", new SessionRow(address.Name, address.DeviceId, record.Serialize()));
        }
    }

    public bool ContainsSession(ProtocolAddress address) => LoadSession(address) is { HasCurrentState: true };

    public void DeleteSession(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            Set(_sessions, $"{address.Name}/{Id(address.DeviceId)}", null);
        }
    }

    public void DeleteAllSessions(string name)
    {
        lock (_gate)
        {
            foreach (var key in _sessions.Rows.Where(s => s.Value.User == name).Select(s => s.Key).ToList())
            {
                Set(_sessions, key, null);
            }
        }
    }

    // ───────────── plumbing ─────────────

    private static string Hex(byte[] id) => Convert.ToHexString(id);

    private static string Id(uint id) => id.ToString(CultureInfo.InvariantCulture);

    // User names never hold '/', so "sender/id" is unambiguous.
    private static string MessageKey(string sender, byte[] id) => $"{sender}/{Hex(id)}";

    private static T? Get<T>(Table<T> table, string key) where T : class => table.Rows.TryGetValue(key, out var value) ? value : null;

    private async Task LoadTableAsync<T>(Table<T> table, CancellationToken cancellationToken) where T : class
    {
        var rows = await _persistence.ReadAllAsync(table.Name, cancellationToken);
        // Tables load side by side (LoadAsync): one applies at a time, whichever thread its read completed on.
        lock (_gate)
        {
            foreach (var (key, value) in rows)
            {
                table.Put(key, table.Decode?.Invoke(value) ?? JsonSerializer.Deserialize<T>(value, Json)
                    ?? throw new InvalidDataException($"A stored row of {table.Name} is empty."));
            }
        }
    }

    // Every change goes through here: the row changes in memory, is queued for the next flush, and
    // (inside Atomically) can be undone.
    private void Set<T>(Table<T> table, string key, T? row) where T : class
    {
        var had = table.Rows.TryGetValue(key, out var old);
        if (row is null)
        {
            if (!had)
            {
                return;
            }
            table.Remove(key);
        }
        else
        {
            table.Put(key, row);
        }
        MarkDirty(table, key, row);
        _undo?.Add(() =>
        {
            if (had)
            {
                table.Put(key, old!);
            }
            else
            {
                table.Remove(key);
            }
            MarkDirty(table, key, had ? old : null);
        });
    }

    private void MarkDirty<T>(Table<T> table, string key, T? row) where T : class
    {
        _dirty[(table.Name, key)] = row is null ? null : JsonSerializer.SerializeToUtf8Bytes(row, Json);
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            // Written soon after the current work, in one batch with whatever else it changes.
            _ = Task.Run(FlushInBackgroundAsync);
        }
    }

    private async Task FlushInBackgroundAsync()
    {
        try
        {
            await FlushAsync();
        }
        catch (Exception e) when (e is ParleyException or OperationCanceledException or ObjectDisposedException)
        {
            // Kept dirty: the next flush (scheduled or awaited) tries again and reports the failure.
        }
    }

    private sealed class Table<T>(string name) where T : class
    {
        private readonly Dictionary<string, T> _rows = new(StringComparer.Ordinal);

        public string Name { get; } = name;

        public IReadOnlyDictionary<string, T> Rows => _rows;

        // Told (key, old row, new row) of every change, so that an index kept beside the rows follows them.
        public Action<string, T?, T?>? Changed { get; init; }

        // A faster reader of the stored format, or null; it answers null for a row it does not know.
        public Func<byte[], T?>? Decode { get; init; }

        public void Put(string key, T row)
        {
            _rows.TryGetValue(key, out var old);
            _rows[key] = row;
            Changed?.Invoke(key, old, row);
        }

        public void Remove(string key)
        {
            if (_rows.Remove(key, out var old))
            {
                Changed?.Invoke(key, old, null);
            }
        }
    }

    private sealed record MessageRow(byte[] Id, string Sender, uint SenderDevice, string Peer, MessageDirection Direction, string Text,
        long SentAt, MessageStatus Status, bool Shown, long Order)
    {
        public StoredMessage ToStored() => new(MessageId.ToText(Id), Peer, Direction, Sender, SenderDevice, Text,
            DateTimeOffset.FromUnixTimeMilliseconds(SentAt), Status);
    }

    private sealed record OutboxRow(long Position, byte[] Id, string Peer, long SentAt, byte[] Content);

    private sealed record SignedPreKeyRow(uint Id, byte[] Record, long CreatedAt);

    private sealed record KyberPreKeyRow(uint Id, byte[] Record, bool LastResort, long CreatedAt);

    private sealed record SessionRow(string User, uint Device, byte[] Record);

    private sealed record DeviceIdentityRow(string User, uint Device, byte[] Key);

    private sealed record PeerIdentityRow(byte[] Key, byte[]? VerifiedKey, bool Changed);

    private sealed record RecentSendRow(byte[] Id, string Peer, long SentAt, byte[] Content);

    private sealed record SentDeviceRow(byte[] Id, string User, uint Device, byte[] Identity);

    private sealed record ResendTargetRow(string User, uint Device, byte[] Identity);

    private sealed record AttachmentRow(string Sender, byte[] MessageId, byte[] Pointer, string? SavedPath);

    private sealed record UploadRow(string Peer, string FilePath, byte[] MessageId, long FileLength, long FileModified, byte[] Key,
        byte[]? Digest, long BlobLength, string? Location)
    {
        public static UploadRow From(UploadState u) => new(u.Peer, u.FilePath, u.MessageId, u.FileLength, u.FileModified, u.Key, u.Digest, u.BlobLength, u.Location);

        public UploadState ToState() => new(Peer, FilePath, MessageId, FileLength, FileModified, Key, Digest, BlobLength, Location);
    }
}
