using Parley.Client.Connection;
using Parley.Client.Events;
using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client.Receiving;

/// <summary>
/// Handles what the server pushes: envelopes (messages, receipts, retry requests), the end of the
/// stored queue, presence, typing and PreKeysLow. Each envelope is stored (or known to be
/// unusable) before it is acked, so nothing acked can be lost, and a redelivered message is acked
/// and counted but never raised twice. Decryption and resends are the owner's (its encryption part).
/// </summary>
internal sealed class InboundProcessor(IClientStore store, DeviceCredentialsProfile credentials, ParleyClientOptions options, ParleyClient owner)
{
    private int _duplicates;

    /// <summary>When false, envelopes are stored but never acked (the server will redeliver them): a test switch.</summary>
    public bool AcksEnabled { get; set; } = true;

    /// <summary>How many delivered messages were already stored (redeliveries), acked and not raised again.</summary>
    public int DuplicateDeliveries => Volatile.Read(ref _duplicates);

    private string Me => credentials.User;

    /// <summary>Handles one frame the server pushed on <paramref name="session"/>.</summary>
    public async Task OnPushAsync(Session session, ServerFrame frame)
    {
        switch (frame.BodyCase)
        {
            case ServerFrame.BodyOneofCase.Envelope:
                await OnEnvelopeAsync(session, frame.Envelope);
                break;
            case ServerFrame.BodyOneofCase.QueueEmpty:
                session.Drained.TrySetResult();
                owner.OnQueueDrained();
                break;
            case ServerFrame.BodyOneofCase.PresenceUpdate:
                owner.OnPresenceChanged(ToPresence(frame.PresenceUpdate));
                break;
            case ServerFrame.BodyOneofCase.TypingUpdate:
                var t = frame.TypingUpdate;
                if (UserName.IsValid(t.User))
                {
                    owner.OnTypingChanged(new TypingChangedEventArgs(t.User, t.DeviceId, t.Typing,
                        t.GroupId.Length == Groups.GroupConversation.IdBytes ? Groups.GroupConversation.IdText(t.GroupId.Span) : null));
                }
                break;
            case ServerFrame.BodyOneofCase.PrekeysLow:
                owner.OnPreKeysLow(session, frame.PrekeysLow);
                break;
            default:
                // Anything newer than this build: nothing to do.
                break;
        }
    }

    /// <summary>A presence update as the event raised for it.</summary>
    public static PresenceChangedEventArgs ToPresence(PresenceUpdate update) =>
        new(update.User, update.Online, update.LastSeen > 0 ? FromUnixMs(update.LastSeen) : null);

    /// <summary>
    /// A text as it is stored on arrival: from a peer, or the sync copy of what another of our own
    /// devices sent (outgoing, and already past the server).
    /// </summary>
    public static StoredMessage ReceivedText(string id, string peer, bool fromSelf, Envelope envelope, string text) => new(
        id,
        peer,
        fromSelf ? MessageDirection.Outgoing : MessageDirection.Incoming,
        envelope.Sender,
        envelope.SenderDevice,
        text,
        FromUnixMs(envelope.SentAt),
        fromSelf ? MessageStatus.Sent : MessageStatus.Delivered);

    private static DateTimeOffset FromUnixMs(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    private async Task OnEnvelopeAsync(Session session, Envelope envelope)
    {
        switch (envelope.Kind)
        {
            case EnvelopeKind.Message when !envelope.GroupId.IsEmpty:
                // Sender-key ciphertext (ParleyClient.Groups.cs), never tried as a 1:1 message.
                var (groupMessage, groupNew) = owner.ReceiveGroupMessage(envelope);
                Ack(session, envelope.Seq);
                if (groupNew)
                {
                    owner.OnMessageReceived(new MessageReceivedEventArgs(groupMessage!));
                }
                break;
            case EnvelopeKind.GroupChange:
                owner.OnGroupChange(envelope);
                Ack(session, envelope.Seq);
                break;
            case EnvelopeKind.Message:
                StoredMessage? message;
                bool isNew;
                if (owner.IsEndToEndEncrypted)
                {
                    // Decrypted and stored in one transaction (or a retry request queued) before the ack.
                    (message, isNew) = owner.ReceiveEncrypted(envelope);
                }
                else
                {
                    message = await OpenMessageAsync(envelope);
                    isNew = message is not null && store.InsertReceived(message, envelope.MessageId.ToByteArray());
                }
                // Stored (or known to be unusable) before acking: nothing acked can be lost.
                Ack(session, envelope.Seq);
                if (isNew)
                {
                    owner.OnMessageReceived(new MessageReceivedEventArgs(message!));
                }
                else if (message is not null)
                {
                    Interlocked.Increment(ref _duplicates);
                }
                break;
            case EnvelopeKind.DeliveryReceipt:
            case EnvelopeKind.ReadReceipt:
                var changes = ApplyReceipt(envelope);
                Ack(session, envelope.Seq);
                foreach (var change in changes)
                {
                    owner.OnMessageStatusChanged(change);
                }
                break;
            case EnvelopeKind.RetryRequest:
                // The resend is queued durably before the ack.
                owner.OnRetryRequest(envelope);
                Ack(session, envelope.Seq);
                break;
            default:
                Ack(session, envelope.Seq);
                break;
        }
    }

    private async Task<StoredMessage?> OpenMessageAsync(Envelope envelope)
    {
        if (envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender))
        {
            return null;
        }
        var fromSelf = envelope.Sender == Me;
        var peer = fromSelf ? envelope.Conversation : envelope.Sender;
        if (!UserName.IsValid(peer) || peer == Me || (fromSelf && envelope.SenderDevice == credentials.DeviceId))
        {
            return null;
        }
        Content content;
        try
        {
            var plain = await options.Cipher!.DecryptAsync(envelope.Sender, envelope.SenderDevice, envelope.Payload.Memory, CancellationToken.None);
            content = Content.Parser.ParseFrom(plain);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Undecryptable or malformed: dropping it is all we can do until retry requests exist.
            return null;
        }
        return ParleyClient.ShownText(content, out _) is { } text
            ? ReceivedText(MessageId.ToText(envelope.MessageId.Span), peer, fromSelf, envelope, text)
            : null;
    }

    private List<MessageStatusChangedEventArgs> ApplyReceipt(Envelope envelope)
    {
        var changes = new List<MessageStatusChangedEventArgs>();
        var status = envelope.Kind == EnvelopeKind.ReadReceipt ? MessageStatus.Read : MessageStatus.Delivered;
        if (envelope.Receipts.Count > 0)
        {
            // A coalesced group receipt: each entry is one member device's receipt; the id cap holds for the whole envelope.
            int budget = WireLimits.MaxIdsPerFrame;
            foreach (var entry in envelope.Receipts)
            {
                var ids = entry.MessageIds.Take(budget).ToList();
                budget -= ids.Count;
                ApplyReceipt(entry.Reader, entry.ReaderDevice, ids, status, changes);
            }
            return changes;
        }
        ApplyReceipt(envelope.Sender, envelope.SenderDevice, envelope.ReceiptIds.Take(WireLimits.MaxIdsPerFrame), status, changes);
        return changes;
    }

    private void ApplyReceipt(string sender, uint senderDevice, IEnumerable<Google.Protobuf.ByteString> receiptIds, MessageStatus status, List<MessageStatusChangedEventArgs> changes)
    {
        if (!UserName.IsValid(sender))
        {
            return;
        }
        foreach (var raw in receiptIds)
        {
            if (raw.Length != WireLimits.MessageIdBytes)
            {
                continue;
            }
            // A resend travels under its own id: its receipts belong to the original message.
            var id = store.ResendOriginal(raw.ToByteArray()) ?? raw.ToByteArray();
            if (sender != Me && store.AdvanceGroupReceipt(id, Me, sender, senderDevice, status) is (true, var groupChanged))
            {
                // One of our group messages: that member's tick moved, and the message once every member device has it.
                if (groupChanged is not null)
                {
                    changes.Add(new MessageStatusChangedEventArgs(groupChanged.Id, groupChanged.Peer, groupChanged.Status));
                }
                continue;
            }
            StoredMessage? changed = null;
            if (sender != Me)
            {
                // The peer's device got (or read) our message: only messages of that conversation move.
                changed = store.Advance(Me, sender, id, status);
            }
            else if (status == MessageStatus.Read && store.Find(id) is { Direction: MessageDirection.Incoming } incoming)
            {
                // Another of our devices read a message from the peer.
                changed = store.Advance(incoming.Sender, incoming.Peer, id, status);
            }
            if (changed is not null)
            {
                changes.Add(new MessageStatusChangedEventArgs(changed.Id, changed.Peer, changed.Status));
            }
        }
    }

    private void Ack(Session session, ulong seq)
    {
        if (AcksEnabled)
        {
            session.QueueAck(seq);
        }
    }
}
