using Google.Protobuf;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Contacts;
using Parley.Server.Groups;
using Parley.Server.Limits;

namespace Parley.Server.Messaging;

/// <summary>
/// The rules of the spine: who a send must address, what becomes durable, which receipts an
/// ack or a read causes, and the abuse limits on sends (rates, new contacts, queue caps) and
/// READs (only for messages the peer really sent the reader). Answers are ServerFrames without a
/// request id; expected failures are Error frames, not exceptions.
/// </summary>
public sealed class MessageRouter(AccountDirectory directory, IMessageStore store, ContactBook contacts, GroupDirectory groups, LimitMetrics metrics, IOptions<ParleyOptions> options, TimeProvider time)
{
    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly TokenBuckets<long> _senderRate = new(options.Value.Limits.MessagesPerSecondPerSender, options.Value.Limits.MessageBurstPerSender, time);
    private readonly TokenBuckets<(long, long)> _pairRate = new(options.Value.Limits.MessagesPerSecondPerRecipient, options.Value.Limits.MessageBurstPerRecipient, time);
    private readonly TokenBuckets<long> _newContacts = new(options.Value.Limits.NewContactsPerHour / 3600, options.Value.Limits.NewContactBurst, time);

    /// <summary>
    /// Validates a send and hands one envelope per device to the store. Returns the failure to
    /// answer at once, or null with <paramref name="stored"/> completing once the envelopes are
    /// durable (false: a duplicate, nothing appended); answer it with <see cref="Sent"/>.
    /// </summary>
    public ServerFrame? BeginSend(Account sender, uint senderDevice, SendMessage send, out Task<bool> stored)
    {
        stored = Task.FromResult(false);
        if (send.MessageId.Length != WireLimits.MessageIdBytes)
        {
            return Fail(ErrorCode.BadRequest, "message_id must be 16 bytes");
        }
        if (send.Kind is not (EnvelopeKind.Message or EnvelopeKind.RetryRequest))
        {
            return Fail(ErrorCode.BadRequest, "clients send MESSAGE or RETRY_REQUEST; receipts have their own requests");
        }
        if (send.Payloads.Count > WireLimits.MaxPayloadsPerSend)
        {
            return Fail(ErrorCode.TooLarge, $"at most {WireLimits.MaxPayloadsPerSend} device payloads per send");
        }
        if (!UserName.IsValid(send.Recipient) || directory.Find(send.Recipient) is not { } recipient)
        {
            return Fail(ErrorCode.UnknownUser, "no such user");
        }
        foreach (var p in send.Payloads)
        {
            if (p.Payload.Length > WireLimits.MaxPayloadBytes)
            {
                return Fail(ErrorCode.TooLarge, $"a device payload is at most {WireLimits.MaxPayloadBytes} bytes");
            }
        }
        if ((send.SingleDevice ? NotOneDevice(send, sender, senderDevice, recipient) : StaleDevices(sender, senderDevice, recipient, send.Payloads)) is { } stale)
        {
            return stale;
        }
        if (Throttle(sender, recipient) is { } limited)
        {
            return limited;
        }
        if (QueueFull(sender, recipient, send.Payloads) is { } full)
        {
            return full;
        }

        var envelopes = new List<QueuedEnvelope>(send.Payloads.Count);
        foreach (var p in send.Payloads)
        {
            var target = p.User == recipient.User ? recipient : sender;
            if (target == sender && IsFull(new DeviceAddress(sender.Id, p.DeviceId).Key, p.Payload.Length))
            {
                continue; // the sender's own device, offline long enough to fill its queue, misses this copy
            }
            envelopes.Add(new QueuedEnvelope(new DeviceAddress(target.Id, p.DeviceId).Key, new Envelope
            {
                Kind = send.Kind,
                MessageId = send.MessageId,
                Sender = sender.User,
                SenderDevice = senderDevice,
                // The receiving device's view: a sync copy on the sender's own device belongs to
                // the chat with the recipient; everyone else sees the chat with the sender.
                Conversation = target == sender ? recipient.User : sender.User,
                SentAt = send.SentAt,
                Payload = p.Payload,
            }));
        }
        // Only a MESSAGE makes a contact: a client sends RETRY_REQUEST on its own when it cannot
        // decrypt, so a stranger could otherwise provoke one and gain the right to see its presence.
        bool newContact = send.Kind == EnvelopeKind.Message && contacts.RecordWrite(sender.Id, recipient.Id);
        var key = new DedupKey(new DeviceAddress(sender.Id, senderDevice).Key, send.MessageId.ToByteArray(), recipient.Id, newContact);
        stored = store.AppendAsync(key, envelopes);
        return null;
    }

    /// <summary>The SENT answer for a send the store has made durable (or found a duplicate).</summary>
    public ServerFrame Sent(ByteString messageId, bool fresh) => new()
    {
        SendResult = new SendResult
        {
            MessageId = messageId,
            ServerTime = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Duplicate = !fresh,
        },
    };

    /// <summary>
    /// Deletes acked envelopes and, for messages a recipient device acked, queues DELIVERED to
    /// every device of the sender in the same transaction. Those for group messages go to the store
    /// as <see cref="GroupDelivery"/> values, which it coalesces per message with other members'.
    /// </summary>
    public Task AckAsync(Account reader, uint readerDevice, IReadOnlyList<Envelope> acked)
    {
        if (acked.Count == 1)
        {
            return AckOneAsync(reader, readerDevice, acked[0]);
        }
        var receipts = new List<QueuedEnvelope>();
        var seqs = new List<ulong>(acked.Count);
        Dictionary<(string Sender, ByteString Group), List<ByteString>>? bySender = null;
        List<GroupDelivery>? deliveries = null;
        for (int i = 0; i < acked.Count; i++) // by index: foreach over the interface would box an enumerator
        {
            var e = acked[i];
            seqs.Add(e.Seq);
            if (e.Kind != EnvelopeKind.Message || e.Sender == reader.User)
            {
                continue; // receipts and our own sync copies cause no receipt
            }
            if (!e.GroupId.IsEmpty)
            {
                // Group messages: plain values, coalesced by the store per message when it writes them.
                if (directory.Find(e.Sender) is { } groupSender)
                {
                    (deliveries ??= new List<GroupDelivery>(acked.Count)).Add(new GroupDelivery(e.GroupId, e.MessageId, reader.User, reader.Id, readerDevice, groupSender.Id, groupSender.Devices));
                }
                continue;
            }
            bySender ??= [];
            if (!bySender.TryGetValue((e.Sender, e.GroupId), out var ids))
            {
                bySender[(e.Sender, e.GroupId)] = ids = [];
            }
            ids.Add(e.MessageId);
        }
        foreach (var ((sender, group), ids) in bySender ?? [])
        {
            if (directory.Find(sender) is { } original) // else the sender's account is gone
            {
                AddReceipts(receipts, EnvelopeKind.DeliveryReceipt, reader, readerDevice, original, reader.User, ids, group);
            }
        }
        var key = new DeviceAddress(reader.Id, readerDevice).Key;
        return deliveries is null ? store.AckAsync(key, seqs, receipts) : store.AckGroupDeliveriesAsync(key, seqs, receipts, deliveries);
    }

    /// <summary>
    /// <see cref="AckAsync"/> for one envelope, the common case (a member device acking the group
    /// message it just got): the same receipts without the grouping by sender.
    /// </summary>
    private Task AckOneAsync(Account reader, uint readerDevice, Envelope e)
    {
        IReadOnlyList<QueuedEnvelope> receipts = [];
        if (e.Kind == EnvelopeKind.Message && e.Sender != reader.User && directory.Find(e.Sender) is { } original)
        {
            if (!e.GroupId.IsEmpty)
            {
                // Plain values: the store builds receipt envelopes only when it writes them, coalesced.
                return store.AckGroupDeliveryAsync(new DeviceAddress(reader.Id, readerDevice).Key, e.Seq,
                    new GroupDelivery(e.GroupId, e.MessageId, reader.User, reader.Id, readerDevice, original.Id, original.Devices));
            }
            var into = new List<QueuedEnvelope>(original.Devices.Length);
            AddReceipts(into, EnvelopeKind.DeliveryReceipt, reader, readerDevice, original, reader.User, [e.MessageId], e.GroupId);
            receipts = into;
        }
        return store.AckAsync(new DeviceAddress(reader.Id, readerDevice).Key, [e.Seq], receipts);
    }

    /// <summary>Queues READ to every device of the peer (the reader's other devices learn it from the reader's read sync).</summary>
    public async Task<ServerFrame> ReadAsync(Account reader, uint readerDevice, ReadReceipt read)
    {
        if (read.MessageIds.Count == 0 || read.MessageIds.Count > WireLimits.MaxIdsPerFrame ||
            read.MessageIds.Any(id => id.Length != WireLimits.MessageIdBytes))
        {
            return Fail(ErrorCode.BadRequest, $"1 to {WireLimits.MaxIdsPerFrame} message ids of 16 bytes");
        }
        if (!UserName.IsValid(read.Peer) || directory.Find(read.Peer) is not { } peer)
        {
            return Fail(ErrorCode.UnknownUser, "no such user");
        }
        // Only ids the peer really sent the reader: otherwise anyone could mark anything read
        // for anyone. Ids past the dedup window are dropped too; the rest still go.
        var sent = store.SentTo(peer.Id, reader.Id, read.MessageIds);
        if (sent.Count == 0)
        {
            metrics.Refused(LimitKind.ReadUnknown);
            return Fail(ErrorCode.NotFound, $"none of these ids is a message {peer.User} sent you recently (the last {_limits.DedupPerDevice} of each of its devices, within {_limits.DedupDays} days)");
        }
        var receipts = new List<QueuedEnvelope>();
        // Only the peer's devices: the reader's other devices learn of the read from the reader's
        // encrypted read sync (a plaintext copy here would tell the server nothing new but cost a
        // queued envelope per device per read).
        AddReceipts(receipts, EnvelopeKind.ReadReceipt, reader, readerDevice, peer, reader.User, sent);
        await store.AppendAsync(null, receipts);
        return new ServerFrame { Ok = new Ok() };
    }

    /// <summary>The current device ids of a user, or UNKNOWN_USER.</summary>
    public ServerFrame Devices(string user, Account? asker = null)
    {
        if (!UserName.IsValid(user) || directory.Find(user) is not { } account)
        {
            return Fail(ErrorCode.UnknownUser, "no such user");
        }
        var list = DeviceListOf(account);
        if (asker == account)
        {
            // Names and activity are the account's own business: only its own devices see them.
            foreach (var d in account.Devices)
            {
                account.DeviceActivity.TryGetValue(d.Id, out var activity);
                list.Devices.Add(new DeviceInfo { Id = d.Id, Name = d.Name, AddedAt = d.CreatedAt, LastSeen = activity.LastSeen, Online = activity.Open > 0 });
            }
        }
        return new ServerFrame { DeviceList = list };
    }

    /// <summary>
    /// PublishDeviceList: stores the account's new signed list (BAD_REQUEST with the reason when it
    /// is refused), then tells the account's other devices (<see cref="NotifyOwnDevicesAsync"/>).
    /// </summary>
    public async Task<ServerFrame> PublishDeviceListAsync(Account account, uint publisherDevice, PublishDeviceList publish)
    {
        ArgumentNullException.ThrowIfNull(publish);
        if (directory.PublishDeviceList(account, publish.Signed) is { } problem)
        {
            return Fail(ErrorCode.BadRequest, problem);
        }
        await NotifyOwnDevicesAsync(account, publisherDevice);
        return new ServerFrame { Ok = new Ok() };
    }

    /// <summary>
    /// Queues DEVICE_LIST_CHANGED to every device of <paramref name="account"/> but
    /// <paramref name="actorDevice"/>: durable, so a device offline now learns of the change at its
    /// next connect, in queue order. It carries nothing to trust: each device fetches the signed
    /// list and compares it with the one it holds. A device whose queue is full misses it.
    /// </summary>
    public Task NotifyOwnDevicesAsync(Account account, uint actorDevice)
    {
        ArgumentNullException.ThrowIfNull(account);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var envelopes = new List<QueuedEnvelope>();
        foreach (var device in account.Devices)
        {
            var key = new DeviceAddress(account.Id, device.Id).Key;
            if (device.Id != actorDevice && !IsFull(key, 0))
            {
                envelopes.Add(new QueuedEnvelope(key, new Envelope
                {
                    Kind = EnvelopeKind.DeviceListChanged,
                    Sender = account.User,
                    SenderDevice = actorDevice,
                    Conversation = account.User,
                    SentAt = now,
                }));
            }
        }
        return envelopes.Count == 0 ? Task.CompletedTask : store.AppendAsync(null, envelopes);
    }

    /// <summary>
    /// Takes one message from the sender's rate (a group send, create or change counts once,
    /// however many members it reaches); RATE_LIMITED when it has none left, else null.
    /// </summary>
    public ServerFrame? TakeSendToken(Account sender) =>
        _senderRate.TryTake(sender.Id, out var wait) ? null : RateLimited("too many messages; slow down", wait);

    /// <summary>RATE_LIMITED with when to retry.</summary>
    public static ServerFrame RateLimited(string message, uint retryAfterMs) =>
        new() { Error = new Error { Code = ErrorCode.RateLimited, Message = message, RetryAfterMs = Math.Max(1, retryAfterMs) } };

    public static ServerFrame Fail(ErrorCode code, string message) =>
        new() { Error = new Error { Code = code, Message = message } };

    /// <summary>The answer to a request the server failed on (logged there): the client may retry.</summary>
    public static ServerFrame ServerError() => Fail(ErrorCode.Internal, "server error; retry the request");

    /// <summary>
    /// The send rates: per sender account, per sender→recipient pair, and for a recipient the
    /// sender has never written to, per account new contacts. Sends to oneself are not limited
    /// beyond the sender's own rate.
    /// </summary>
    private ServerFrame? Throttle(Account sender, Account recipient)
    {
        if (!_senderRate.TryTake(sender.Id, out var wait))
        {
            metrics.Refused(LimitKind.SenderRate);
            return RateLimited("too many messages; slow down", wait);
        }
        if (sender == recipient)
        {
            return null;
        }
        if (!_pairRate.TryTake((sender.Id, recipient.Id), out wait))
        {
            metrics.Refused(LimitKind.RecipientRate);
            return RateLimited($"too many messages to {recipient.User}; slow down", wait);
        }
        // Members of a common group are not strangers: a sender-key distribution to every member
        // of a new group must not run into the new-contact limit.
        if (!contacts.HasWritten(sender.Id, recipient.Id) && !groups.ShareAGroup(sender.Id, recipient.Id) && !_newContacts.TryTake(sender.Id, out wait))
        {
            metrics.Refused(LimitKind.NewContacts);
            return RateLimited("too many new conversations; existing ones are unaffected", wait);
        }
        return null;
    }

    /// <summary>
    /// RECIPIENT_QUEUE_FULL when any device of the recipient has its queue at the cap: the message
    /// is refused as a whole, so the recipient's devices never disagree about what was sent. The
    /// sender's own devices are checked per copy instead (see BeginSend).
    /// </summary>
    private ServerFrame? QueueFull(Account sender, Account recipient, IList<DevicePayload> payloads)
    {
        for (int i = 0; i < payloads.Count; i++)
        {
            var p = payloads[i];
            if (p.User == recipient.User && sender != recipient && IsFull(new DeviceAddress(recipient.Id, p.DeviceId).Key, p.Payload.Length))
            {
                metrics.Refused(LimitKind.QueueFull);
                return Fail(ErrorCode.RecipientQueueFull, $"{recipient.User} has too many undelivered messages; try again after they come online");
            }
        }
        return null;
    }

    /// <summary>Whether one more envelope of about <paramref name="payloadBytes"/> would put the device's queue over a cap.</summary>
    private bool IsFull(long deviceKey, int payloadBytes)
    {
        var usage = store.Usage(deviceKey);
        return usage.Envelopes >= _limits.MaxQueuedEnvelopesPerDevice || usage.Bytes + payloadBytes > _limits.MaxQueuedBytesPerDevice;
    }

    private static void AddReceipts(List<QueuedEnvelope> into, EnvelopeKind kind, Account from, uint fromDevice,
        Account to, string conversation, IReadOnlyList<ByteString> ids, ByteString? group = null)
    {
        foreach (var device in to.Devices)
        {
            if (to == from && device.Id == fromDevice)
            {
                continue;
            }
            var envelope = new Envelope { Kind = kind, Sender = from.User, SenderDevice = fromDevice, Conversation = conversation, GroupId = group ?? ByteString.Empty };
            for (int i = 0; i < ids.Count; i++) // by index: AddRange of a list enumerates it through an allocated enumerator
            {
                envelope.ReceiptIds.Add(ids[i]);
            }
            into.Add(new QueuedEnvelope(new DeviceAddress(to.Id, device.Id).Key, envelope));
        }
    }

    /// <summary>
    /// The exact device set a send must address, compared with what it addressed. Device lists
    /// are short (a handful per account), so plain scans beat building sets on this hot path.
    /// </summary>
    private static ServerFrame? StaleDevices(Account sender, uint senderDevice, Account recipient, IList<DevicePayload> payloads)
    {
        int expected = recipient.Devices.Length + (sender == recipient ? -1 : sender.Devices.Length - 1);
        bool exact = payloads.Count == expected;
        for (int i = 0; exact && i < payloads.Count; i++)
        {
            var p = payloads[i];
            exact = (p.User == recipient.User && recipient.FindDevice(p.DeviceId) is not null && !(sender == recipient && p.DeviceId == senderDevice)) ||
                    (p.User == sender.User && p.DeviceId != senderDevice && sender.FindDevice(p.DeviceId) is not null);
            for (int j = 0; exact && j < i; j++)
            {
                exact = payloads[j].DeviceId != p.DeviceId || payloads[j].User != p.User;
            }
        }
        if (exact)
        {
            return null;
        }
        var error = new Error
        {
            Code = ErrorCode.StaleDevices,
            Message = "the device list is stale: address every device of the recipient and your other devices",
        };
        error.Devices.Add(DeviceListOf(recipient));
        if (sender != recipient)
        {
            error.Devices.Add(DeviceListOf(sender));
        }
        return new ServerFrame { Error = error };
    }

    /// <summary>A single-device send (a resend to the device that asked for it) names one existing device of the recipient or one other device of the sender.</summary>
    private static ServerFrame? NotOneDevice(SendMessage send, Account sender, uint senderDevice, Account recipient)
    {
        if (send.Kind == EnvelopeKind.Message && send.Payloads.Count == 1 && send.Payloads[0] is var p &&
            ((p.User == recipient.User && recipient.FindDevice(p.DeviceId) is not null && !(sender == recipient && p.DeviceId == senderDevice)) ||
             (p.User == sender.User && p.DeviceId != senderDevice && sender.FindDevice(p.DeviceId) is not null)))
        {
            return null;
        }
        return Fail(ErrorCode.BadRequest, "single_device: a MESSAGE with one payload, for an existing device of the recipient or another device of yours");
    }

    private static DeviceList DeviceListOf(Account account)
    {
        var list = new DeviceList { User = account.User, Signed = account.DeviceList?.Signed };
        list.DeviceIds.AddRange(account.Devices.Select(d => d.Id));
        return list;
    }
}
