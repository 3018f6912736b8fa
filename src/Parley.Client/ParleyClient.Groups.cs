using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Events;
using Parley.Client.Groups;
using Parley.Client.Media;
using Parley.Crypto;
using Parley.Crypto.Groups;
using Parley.Protocol;

namespace Parley.Client;

// Groups: membership over the server's group frames, the title as an end-to-end encrypted
// group-state message, group texts encrypted once with this device's sender key (distributed over
// the 1:1 sessions to the member devices that lack it, rotated after a removal), and per-member ticks.
public sealed partial class ParleyClient
{
    /// <summary>How many member devices get their sender-key distribution (or device list, or session) in flight at once.</summary>
    private const int DistributionWindow = 64;

    /// <summary>The longest group title, in UTF-8 bytes (<see cref="GroupTitle"/> has the rules).</summary>
    public const int MaxGroupTitleBytes = GroupTitle.MaxBytes;

    /// <summary>A group's membership changed (a server notice) or a member set a new title. Raised once per change this device applies.</summary>
    public event EventHandler<GroupChangedEventArgs>? GroupChanged;

    // ───────────────────────── membership ─────────────────────────

    /// <summary>
    /// Creates a group with this account as its admin and <paramref name="members"/> as members, and
    /// queues the title to them as an end-to-end encrypted group-state message (the server never
    /// learns it); returns once the server has that message (its sender-key distribution to every
    /// member device included). Throws <see cref="ParleyException"/> UNKNOWN_USER when a member does
    /// not exist, TOO_LARGE beyond the server's member cap.
    /// </summary>
    public async Task<GroupInfo> CreateGroupAsync(string title, IEnumerable<string> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        CheckTitle(title);
        var users = members.Where(u => u != Me).Distinct(StringComparer.Ordinal).ToList();
        foreach (var user in users)
        {
            if (!UserName.IsValid(user))
            {
                throw new ArgumentException($"\"{user}\" is not a user name: {UserName.Rules}.", nameof(members));
            }
        }
        RequireEncryption();
        var create = new CreateGroup();
        create.Members.AddRange(users);
        var answer = await _connection.RequestAsync(() => new ClientFrame { CreateGroup = create.Clone() }, cancellationToken);
        var id = ApplyGroupState(answer.GroupState);
        var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _store.SetGroupTitle(id, title, now);
        await WaitUntilSentAsync(QueueGroupDetails(id, title, now), cancellationToken);
        return _store.FindGroup(id)!;
    }

    /// <summary>Adds <paramref name="user"/> (admins only, else FORBIDDEN) and sends the group's title again for the new member (returns once the server has it). Returns the group after the change.</summary>
    public async Task<GroupInfo> AddGroupMemberAsync(string groupId, string user, CancellationToken cancellationToken = default)
    {
        var info = await ChangeGroupAsync(groupId, GroupChangeKind.GroupAdd, user, cancellationToken);
        if (info.Title.Length > 0)
        {
            // The new member has no earlier group-state message (and could not read it): send it again.
            var details = QueueGroupDetails(GroupConversation.ParseId(groupId)!, info.Title, _options.Time.GetUtcNow().ToUnixTimeMilliseconds());
            await WaitUntilSentAsync(details, cancellationToken);
        }
        return info;
    }

    /// <summary>
    /// Removes <paramref name="user"/> (admins only). This device's sender key is rotated before its
    /// next group message, so the removed member cannot read anything sent afterwards.
    /// </summary>
    public Task<GroupInfo> RemoveGroupMemberAsync(string groupId, string user, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(groupId, GroupChangeKind.GroupRemove, user, cancellationToken);

    /// <summary>Makes <paramref name="user"/> an admin (admins only).</summary>
    public Task<GroupInfo> PromoteGroupMemberAsync(string groupId, string user, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(groupId, GroupChangeKind.GroupPromote, user, cancellationToken);

    /// <summary>Makes admin <paramref name="user"/> a plain member (admins only; the last admin cannot be demoted).</summary>
    public Task<GroupInfo> DemoteGroupMemberAsync(string groupId, string user, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(groupId, GroupChangeKind.GroupDemote, user, cancellationToken);

    /// <summary>Leaves the group. When the last admin leaves, the server promotes the longest-standing member.</summary>
    public Task<GroupInfo> LeaveGroupAsync(string groupId, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(groupId, GroupChangeKind.GroupLeave, "", cancellationToken);

    /// <summary>Sets the group's title for every member (an end-to-end encrypted group-state message); returns once the server has it.</summary>
    public async Task SetGroupTitleAsync(string groupId, string title, CancellationToken cancellationToken = default)
    {
        CheckTitle(title);
        var id = RequireGroupId(groupId);
        RequireMember(id);
        var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _store.SetGroupTitle(id, title, now);
        var messageId = QueueGroupDetails(id, title, now);
        await WaitUntilSentAsync(messageId, cancellationToken);
    }

    /// <summary>The group as the server has it now (members, roles, version), with the title this device knows. NOT_A_MEMBER when this account is not in it.</summary>
    public async Task<GroupInfo> GetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var id = RequireGroupId(groupId);
        var answer = await _connection.RequestAsync(() => new ClientFrame { GetGroup = new GetGroup { GroupId = ByteString.CopyFrom(id) } }, cancellationToken);
        ApplyGroupState(answer.GroupState);
        return _store.FindGroup(id)!;
    }

    /// <summary>Every group this account is in, as the server has them now (the local store is brought up to date).</summary>
    public async Task<IReadOnlyList<GroupInfo>> ListGroupsAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _connection.RequestAsync(() => new ClientFrame { ListGroups = new ListGroups() }, cancellationToken);
        var ids = new List<byte[]>();
        foreach (var state in answer.GroupList?.Groups ?? [])
        {
            ids.Add(ApplyGroupState(state));
        }
        return [.. ids.Select(id => _store.FindGroup(id)!).OrderBy(g => g.Title, StringComparer.CurrentCulture)];
    }

    /// <summary>The groups this device knows of, from the local store (including those left), by title.</summary>
    public IReadOnlyList<GroupInfo> KnownGroups() => _store.AllGroups();

    /// <summary>One group from the local store, or null when this device has never seen it.</summary>
    public GroupInfo? FindGroup(string groupId) => GroupConversation.ParseId(groupId) is { } id ? _store.FindGroup(id) : null;

    private async Task<GroupInfo> ChangeGroupAsync(string groupId, GroupChangeKind kind, string user, CancellationToken cancellationToken)
    {
        var id = RequireGroupId(groupId);
        if (kind != GroupChangeKind.GroupLeave && !UserName.IsValid(user))
        {
            throw new ArgumentException($"\"{user}\" is not a user name: {UserName.Rules}.", nameof(user));
        }
        var change = new ChangeGroup { GroupId = ByteString.CopyFrom(id), Kind = kind, User = user };
        var answer = await _connection.RequestAsync(() => new ClientFrame { ChangeGroup = change.Clone() }, cancellationToken);
        ApplyGroupState(answer.GroupState);
        if (kind == GroupChangeKind.GroupRemove)
        {
            _store.MarkSenderKeyRotation(id);
        }
        return _store.FindGroup(id)!;
    }

    /// <summary>Stores a group state from the server (when newer than the one held) and returns its id.</summary>
    private byte[] ApplyGroupState(GroupState? state)
    {
        if (state is null || state.GroupId.Length != GroupConversation.IdBytes)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server did not answer with a usable GroupState.");
        }
        var id = state.GroupId.ToByteArray();
        // The frame size bounds how many members a hostile server can list.
        var members = state.Members.Where(m => UserName.IsValid(m.User))
            .Select(m => new GroupParticipant(m.User, m.Role == GroupRole.GroupAdmin, FromUnixMs(m.JoinedAt))).ToList();
        _store.ApplyGroupState(id, state.Version, members, Me);
        return id;
    }

    private static void CheckTitle(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        if (!GroupTitle.IsValid(title))
        {
            throw new ArgumentException($"Not a group title: {GroupTitle.Rules}.", nameof(title));
        }
    }

    private static byte[] RequireGroupId(string groupId) =>
        GroupConversation.ParseId(groupId) ?? throw new ArgumentException($"Not a group id: {groupId}", nameof(groupId));

    private void RequireMember(byte[] id)
    {
        if (_store.FindGroup(id) is not { IsMember: true })
        {
            throw new ParleyException(ErrorCode.NotAMember, "This account is not a member of that group (or this device has not seen it yet: list groups first).");
        }
    }

    // ───────────────────────── sending ─────────────────────────

    /// <summary>
    /// Sends a text to every member of the group (and a copy to this account's other devices),
    /// encrypted once with this device's sender key. The message is in the durable outbox before
    /// this returns or throws; the id comes back once the server has it (SENT). Throws
    /// <see cref="ArgumentException"/> for a bad group id or text, <see cref="ParleyException"/>
    /// NOT_A_MEMBER when this account is not in the group.
    /// </summary>
    public async Task<string> SendGroupTextAsync(string groupId, string text, CancellationToken cancellationToken = default)
    {
        var id = QueueGroupText(groupId, text);
        await WaitUntilSentAsync(id, cancellationToken);
        return id;
    }

    /// <summary>Stores a group text in the durable outbox and returns its id at once (see <see cref="QueueText"/>).</summary>
    public string QueueGroupText(string groupId, string text)
    {
        var group = RequireGroupId(groupId);
        CheckText(text);
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireMember(group);
        var content = new Content { Group = new GroupContent { GroupId = ByteString.CopyFrom(group), Text = new TextMessage { Text = text } } }.ToByteArray();
        return _outbox.Add(GroupConversation.Of(group), text, content);
    }

    /// <summary>The last <paramref name="limit"/> messages of the group, oldest first.</summary>
    public IReadOnlyList<StoredMessage> GetGroupConversation(string groupId, int limit = 50) =>
        _store.Conversation(GroupConversation.Of(RequireGroupId(groupId)), limit);

    /// <summary>Each member device's tick for our group message <paramref name="messageId"/>; empty when it is not a group message this device sent.</summary>
    public IReadOnlyList<MemberReceipt> GetMemberReceipts(string messageId) =>
        MessageId.Parse(messageId) is { } id ? _store.GroupReceipts(id) : [];

    /// <summary>
    /// Marks group messages read here and sends READ to each sender (and this account's other
    /// devices); one receipt per sender carries all of that sender's ids. Returns once stored by the server.
    /// </summary>
    public async Task MarkGroupReadAsync(string groupId, IEnumerable<string> messageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var group = RequireGroupId(groupId);
        var conversation = GroupConversation.Of(group);
        var bySender = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
        foreach (var text in messageIds)
        {
            var id = MessageId.Parse(text) ?? throw new ArgumentException($"Not a message id: {text}", nameof(messageIds));
            if (_store.Find(id) is { Direction: MessageDirection.Incoming } m && m.Peer == conversation)
            {
                if (!bySender.TryGetValue(m.Sender, out var ids))
                {
                    bySender[m.Sender] = ids = [];
                }
                ids.Add(id);
            }
        }
        foreach (var (sender, ids) in bySender)
        {
            foreach (var chunk in ids.Chunk(WireLimits.MaxIdsPerFrame))
            {
                try
                {
                    await _connection.RequestAsync(afterAcks: true, () =>
                    {
                        var read = new ReadReceipt { Peer = sender, GroupId = ByteString.CopyFrom(group) };
                        read.MessageIds.AddRange(chunk.Select(ByteString.CopyFrom));
                        return new ClientFrame { Read = read };
                    }, cancellationToken);
                }
                catch (ParleyException e) when (e.Code is ErrorCode.NotFound or ErrorCode.NotAMember)
                {
                    // Past the server's dedup window, or we left: read here all the same.
                }
                foreach (var id in chunk)
                {
                    if (_store.Advance(sender, conversation, id, MessageStatus.Read) is { } changed)
                    {
                        Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(changed.Id, conversation, MessageStatus.Read));
                    }
                }
                await SendReadSyncAsync(null, group, chunk, cancellationToken);
            }
        }
    }

    /// <summary>Tells the other members' online devices that this user is (or stopped) typing in the group. Ephemeral: never queued.</summary>
    public async Task SetGroupTypingAsync(string groupId, bool typing, CancellationToken cancellationToken = default)
    {
        var group = RequireGroupId(groupId);
        await _connection.RequestAsync(() => new ClientFrame { Typing = new Typing { GroupId = ByteString.CopyFrom(group), Typing_ = typing } }, cancellationToken);
    }

    /// <summary>Queues a group-state message with <paramref name="title"/> (internal: tests send titles the public calls refuse).</summary>
    internal string QueueGroupDetails(byte[] group, string title, long at)
    {
        var content = new Content { Group = new GroupContent { GroupId = ByteString.CopyFrom(group), Details = new GroupDetails { Title = title } } }.ToByteArray();
        var id = MessageId.New(_options.Time);
        _store.AddGroupControl(id, GroupConversation.Of(group), at, content);
        _outbox.Wake();
        return MessageId.ToText(id);
    }

    /// <summary>
    /// Sends one group outbox entry: member device lists (cached, else fetched), the sender key to
    /// every device that lacks it (each over its 1:1 session, recorded once SENT), then one body
    /// encrypted once for all. STALE_DEVICES refreshes the lists and membership and tries again.
    /// </summary>
    private async Task<Exception?> SendGroupEntryAsync(Session session, Storage.OutboxEntry entry, CancellationToken cancellationToken)
    {
        var idText = MessageId.ToText(entry.Id);
        var group = GroupConversation.ParseId(entry.Peer)!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (_e2e is null)
                {
                    throw new ParleyException(ErrorCode.BadRequest, "Group messages need end-to-end encryption; this client has a custom cipher.");
                }
                if (_store.FindGroup(group) is not { IsMember: true } info)
                {
                    throw new ParleyException(ErrorCode.NotAMember, "This account is not a member of the group.");
                }
                var (send, recipients) = await BuildGroupSendAsync(session, entry, group, info, cancellationToken);
                var answer = await session.Connection.RequestAsync(new ClientFrame { SendGroup = send }, cancellationToken);
                if (answer.BodyCase != ServerFrame.BodyOneofCase.SendResult)
                {
                    throw new ParleyException(ErrorCode.BadRequest, "The server did not answer SendGroupMessage with SendResult.");
                }
                if (_store.CompleteGroupSend(entry.Id, Me, recipients.Where(r => r.User != Me)))
                {
                    Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Sent));
                }
                return null;
            }
            catch (ParleyException e) when (e.Code == ErrorCode.StaleDevices && attempt < 8)
            {
                foreach (var list in e.Devices)
                {
                    if (UserName.IsValid(list.User))
                    {
                        _store.CacheDevices(list.User, list.DeviceIds);
                    }
                }
                // Someone may have left or been removed since our last notice: take the server's
                // membership, and rotate before this message when someone is gone.
                await RefreshMembershipAsync(session, group, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
            {
                await Task.Delay(_connection.RetryDelay(e), _options.Time, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.Internal && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), _options.Time, cancellationToken);
            }
            catch (ParleyException e) when (!e.IsConnectionLost)
            {
                _store.FailOutbox(entry.Id, Me);
                Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Failed));
                return e;
            }
        }
    }

    private async Task RefreshMembershipAsync(Session session, byte[] group, CancellationToken cancellationToken)
    {
        var before = _store.FindGroup(group)?.Members.Select(m => m.User).ToHashSet(StringComparer.Ordinal) ?? [];
        var answer = await session.Connection.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = ByteString.CopyFrom(group) } }, cancellationToken);
        ApplyGroupState(answer.GroupState);
        if (answer.GroupState.Members.Any(m => m.User == Me) && before.Any(u => answer.GroupState.Members.All(m => m.User != u)))
        {
            _store.MarkSenderKeyRotation(group);
        }
    }

    private async Task<(SendGroupMessage Send, List<(string User, uint Device)> Recipients)> BuildGroupSendAsync(
        Session session, Storage.OutboxEntry entry, byte[] group, GroupInfo info, CancellationToken cancellationToken)
    {
        var members = info.Members.Select(m => m.User).Where(u => u != Me).ToList();
        foreach (var chunk in members.Where(u => _store.CachedDevices(u) is not { Count: > 0 }).Chunk(DistributionWindow))
        {
            await Task.WhenAll(chunk.Select(u => _outbox.DevicesOnAsync(session, u, cancellationToken)));
        }
        var send = new SendGroupMessage { MessageId = ByteString.CopyFrom(entry.Id), GroupId = ByteString.CopyFrom(group), SentAt = entry.SentAt };
        var recipients = new List<(string User, uint Device)>();
        foreach (var user in members)
        {
            var devices = _store.CachedDevices(user) ?? [];
            var list = new DeviceList { User = user };
            list.DeviceIds.AddRange(devices);
            send.Devices.Add(list);
            recipients.AddRange(devices.Select(d => (user, d)));
        }
        var own = (await _outbox.DevicesOnAsync(session, Me, cancellationToken)).Where(d => d != Credentials.DeviceId).ToArray();
        if (own.Length > 0)
        {
            var list = new DeviceList { User = Me };
            list.DeviceIds.AddRange(own);
            send.Devices.Add(list);
            recipients.AddRange(own.Select(d => (Me, d)));
        }

        var distribution = _store.CurrentDistribution(group);
        var holders = _store.SenderKeyHolders(group, distribution);
        var missing = recipients.Where(r => !holders.Contains(r)).ToList();
        if (missing.Count > 0)
        {
            await DistributeSenderKeyAsync(session, group, distribution, missing, cancellationToken);
        }
        else if (recipients.Count == 0)
        {
            // A group of one (its other members left, or joins by link still to come): the key is made here.
            new GroupSessionBuilder(_store).Create(new ProtocolAddress(Me, Credentials.DeviceId), distribution);
        }
        try
        {
            var self = new ProtocolAddress(Me, Credentials.DeviceId);
            send.Body = ByteString.CopyFrom(new GroupCipher(_store, self).Encrypt(distribution, entry.Content).Serialize());
        }
        catch (CryptoException e)
        {
            throw new ParleyException(ErrorCode.BadRequest, $"Cannot encrypt the group message: {e.Message}", "encryption_failed", inner: e);
        }
        // Remembered before it goes out: a member device that cannot decrypt it asks for a resend.
        RememberForResend(entry, recipients.Select(r => new DevicePayload { User = r.User, DeviceId = r.Device }));
        // The chain step is durable before the body leaves: a reloaded device never reuses a message key.
        await _store.FlushAsync(cancellationToken);
        return (send, recipients);
    }

    /// <summary>
    /// Sends this device's sender key of the group to each listed member device, inside its 1:1
    /// session (one single-device message each, so a member's other devices that already hold it get
    /// nothing), and records each holder once the server has the message. A device whose keys cannot
    /// be had (none published, identity changed after verification) is skipped: it will ask again.
    /// </summary>
    private async Task DistributeSenderKeyAsync(Session session, byte[] group, Guid distribution, List<(string User, uint Device)> devices, CancellationToken cancellationToken)
    {
        var self = new ProtocolAddress(Me, Credentials.DeviceId);
        var message = new GroupSessionBuilder(_store).Create(self, distribution).Serialize();
        var content = new Content
        {
            SenderKeyDistribution = new SenderKeyDistribution { GroupId = ByteString.CopyFrom(group), Message = ByteString.CopyFrom(message) },
        }.ToByteArray();
        var byUser = devices.GroupBy(d => d.User, StringComparer.Ordinal).ToList();
        var usable = new List<(string User, uint Device)>();
        foreach (var chunk in byUser.Chunk(DistributionWindow))
        {
            var ready = await Task.WhenAll(chunk.Select(async g =>
            {
                try
                {
                    await EnsureSessionsAsync(session, g.Key, [.. g.Select(d => d.Device)], cancellationToken);
                    return g.ToList();
                }
                catch (ParleyException e) when (e.ApiCode is "no_keys" or "bad_bundle" or "identity_changed")
                {
                    return [];
                }
            }));
            usable.AddRange(ready.SelectMany(r => r));
        }
        var sends = new List<(string User, uint Device, SendMessage Send)>();
        foreach (var (user, device) in usable)
        {
            var payload = SealEncrypted(user, device, content, resend: false);
            var send = new SendMessage
            {
                MessageId = ByteString.CopyFrom(MessageId.New(_options.Time)),
                Recipient = user,
                SentAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
                Kind = EnvelopeKind.Message,
                SingleDevice = true,
            };
            send.Payloads.Add(payload);
            sends.Add((user, device, send));
        }
        // The ratchet steps these took are durable before the ciphertexts leave (the browser store writes in batches).
        await _store.FlushAsync(cancellationToken);
        foreach (var chunk in sends.Chunk(DistributionWindow))
        {
            await Task.WhenAll(chunk.Select(async s =>
            {
                await session.Connection.RequestAsync(new ClientFrame { Send = s.Send }, cancellationToken);
                _store.AddSenderKeyHolder(group, distribution, s.User, s.Device);
            }));
        }
    }

    /// <summary>A resend of a group message to the one member device that could not decrypt it: over its 1:1 session (see <see cref="BuildResendAsync"/>).</summary>
    private async Task<SendMessage?> BuildGroupResendAsync(Session session, Storage.OutboxEntry entry, CancellationToken cancellationToken)
    {
        if (_e2e is null || _store.ResendOriginal(entry.Id) is not { } original || _store.ResendTarget(entry.Id) is not var (user, _, _))
        {
            return null;
        }
        var send = new SendMessage { MessageId = ByteString.CopyFrom(entry.Id), Recipient = user, SentAt = entry.SentAt, Kind = EnvelopeKind.Message };
        return await BuildResendAsync(session, send, entry, original, cancellationToken);
    }

    // ───────────────────────── receiving ─────────────────────────

    /// <summary>Test hook: decrypts a group body as if it came from that member device; the text (for a file: its media id), or null when this device cannot read it.</summary>
    internal string? TryReadGroupBody(string sender, uint device, byte[] body)
    {
        try
        {
            var content = Content.Parser.ParseFrom(new GroupCipher(_store, new ProtocolAddress(sender, device)).Decrypt(body));
            return content.Group?.Text?.Text ?? content.Group?.Attachment?.Id;
        }
        catch (Exception e) when (e is CryptoException or InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>
    /// Decrypts a group MESSAGE envelope with the sender device's sender key and stores it in one
    /// transaction (the chain moves only when it is stored). Without the key (or undecryptable) a
    /// retry request is queued durably before the caller acks: the sender resends it over 1:1.
    /// </summary>
    internal (StoredMessage? Message, bool IsNew) ReceiveGroupMessage(Envelope envelope)
    {
        if (_e2e is null || envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender)
            || envelope.GroupId.Length != GroupConversation.IdBytes || (envelope.Sender == Me && envelope.SenderDevice == Credentials.DeviceId))
        {
            return (null, false);
        }
        var group = envelope.GroupId.ToByteArray();
        var id = envelope.MessageId.ToByteArray();
        var sender = new ProtocolAddress(envelope.Sender, envelope.SenderDevice);
        GroupInfo? titled = null;
        try
        {
            var result = _store.Atomically(() =>
            {
                var plain = new GroupCipher(_store, sender).Decrypt(envelope.Payload.Span);
                Content content;
                try
                {
                    content = Content.Parser.ParseFrom(plain);
                }
                catch (InvalidProtocolBufferException)
                {
                    return ((StoredMessage?)null, false);
                }
                return StoreGroupContent(content, group, id, envelope, out titled);
            });
            RaiseTitle(titled, envelope.Sender);
            return result;
        }
        catch (DuplicateMessageException)
        {
            return (_store.Find(id), false);
        }
        catch (CryptoException e)
        {
            _store.AddRetryRequest(id, envelope.Sender, _options.Time.GetUtcNow().ToUnixTimeMilliseconds());
            _outbox.Wake();
            Raise(DecryptionFailed, new DecryptionFailedEventArgs(envelope.Sender, envelope.SenderDevice,
                MessageId.ToText(envelope.MessageId.Span), e.GetType().Name, retryRequested: true));
            return (null, false);
        }
    }

    /// <summary>
    /// Group content that came inside a 1:1 session (called in the decrypting transaction): a member's
    /// sender key is installed, a resent group message stored. Anything from a user who is not a
    /// member of that group (as this device knows it) is dropped.
    /// </summary>
    private (StoredMessage? Message, bool IsNew) OpenGroupControl(Content content, Envelope envelope, byte[]? original)
    {
        if (content.BodyCase == Content.BodyOneofCase.SenderKeyDistribution)
        {
            var d = content.SenderKeyDistribution;
            if (d.GroupId.Length == GroupConversation.IdBytes && IsMemberOf(d.GroupId.ToByteArray(), envelope.Sender))
            {
                var message = SenderKeyDistributionMessage.Deserialize(d.Message.Span);
                new GroupSessionBuilder(_store).Process(new ProtocolAddress(envelope.Sender, envelope.SenderDevice), message);
            }
            return (null, false);
        }
        var group = content.Group.GroupId.ToByteArray();
        // Inside the decrypting transaction: a title change here is stored but not raised.
        return StoreGroupContent(content, group, original ?? envelope.MessageId.ToByteArray(), envelope, out _);
    }

    private (StoredMessage? Message, bool IsNew) StoreGroupContent(Content content, byte[] group, byte[] id, Envelope envelope, out GroupInfo? titled)
    {
        titled = null;
        if (content.BodyCase != Content.BodyOneofCase.Group || !content.Group.GroupId.Span.SequenceEqual(group) || !IsMemberOf(group, envelope.Sender))
        {
            // Not for this group: a server moving a member's message into another group they share.
            return (null, false);
        }
        var fromSelf = envelope.Sender == Me;
        switch (content.Group.BodyCase)
        {
            case GroupContent.BodyOneofCase.Text when content.Group.Text.Text.Length > 0:
                var message = new StoredMessage(MessageId.ToText(id), GroupConversation.Of(group),
                    fromSelf ? MessageDirection.Outgoing : MessageDirection.Incoming, envelope.Sender, envelope.SenderDevice,
                    content.Group.Text.Text, FromUnixMs(envelope.SentAt), fromSelf ? MessageStatus.Sent : MessageStatus.Delivered);
                return (message, _store.InsertReceived(message, id));
            case GroupContent.BodyOneofCase.Attachment when AttachmentFiles.IsValid(content.Group.Attachment):
                // Stored with its pointer, as a 1:1 file is: DownloadAttachmentAsync and history sync work on it alike.
                var pointer = content.Group.Attachment;
                var file = new StoredMessage(MessageId.ToText(id), GroupConversation.Of(group),
                    fromSelf ? MessageDirection.Outgoing : MessageDirection.Incoming, envelope.Sender, envelope.SenderDevice,
                    pointer.Caption, FromUnixMs(envelope.SentAt), fromSelf ? MessageStatus.Sent : MessageStatus.Delivered);
                return (file, StoreReceived(file, id, pointer));
            case GroupContent.BodyOneofCase.Details when content.Group.Details.Title is var title && GroupTitle.IsValid(title):
                if (_store.SetGroupTitle(group, title, envelope.SentAt))
                {
                    titled = _store.FindGroup(group);
                }
                return (null, false);
            default:
                return (null, false);
        }
    }

    private bool IsMemberOf(byte[] group, string user) =>
        _store.FindGroup(group) is { } info && info.Members.Any(m => m.User == user);

    private void RaiseTitle(GroupInfo? titled, string actor)
    {
        if (titled is not null)
        {
            Raise(GroupChanged, new GroupChangedEventArgs(titled, actor, "title", []));
        }
    }

    /// <summary>
    /// A GROUP_CHANGE notice: applied when newer than the state held. After a removal or a leave
    /// (whatever the version: our own change may have been applied from its answer already) this
    /// device's sender key is rotated before its next group message.
    /// </summary>
    internal void OnGroupChange(Envelope envelope)
    {
        if (envelope.GroupChange?.State is not { } state || state.GroupId.Length != GroupConversation.IdBytes || state.GroupId != envelope.GroupId)
        {
            return;
        }
        if (envelope.GroupChange.Kind is GroupChangeKind.GroupJoinRequest or GroupChangeKind.GroupJoinDenied)
        {
            OnJoinRequestNotice(envelope, envelope.GroupChange);
            return;
        }
        var before = _store.FindGroup(state.GroupId.ToByteArray());
        byte[] id;
        try
        {
            id = ApplyGroupState(state);
        }
        catch (ParleyException)
        {
            return;
        }
        var change = envelope.GroupChange;
        if (change.Kind is GroupChangeKind.GroupRemove or GroupChangeKind.GroupLeave)
        {
            _store.MarkSenderKeyRotation(id);
        }
        if (_store.FindGroup(id) is { } after && (before is null || after.Version > before.Version))
        {
            var kind = change.Kind switch
            {
                GroupChangeKind.GroupCreate => "create",
                GroupChangeKind.GroupAdd => "add",
                GroupChangeKind.GroupRemove => "remove",
                GroupChangeKind.GroupPromote => "promote",
                GroupChangeKind.GroupDemote => "demote",
                GroupChangeKind.GroupLeave => "leave",
                GroupChangeKind.GroupJoin => "join",
                _ => "change",
            };
            WelcomeJoiner(change, id);
            Raise(GroupChanged, new GroupChangedEventArgs(after, change.Actor, kind, [.. change.Users.Where(UserName.IsValid)]));
        }
    }

    private static DateTimeOffset FromUnixMs(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
}
