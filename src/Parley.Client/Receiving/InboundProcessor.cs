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

    // Envelopes waiting behind a fetch of a sender's device list, in arrival order. The fetch is a
    // request on the same connection, so it cannot run inside the read loop (its answer would wait
    // behind this handler): while the chain is busy, every later envelope and the QueueEmpty join it.
    private Task _deferred = Task.CompletedTask;

    // The history wait the chain last joined (ParleyClient.HistoryBeforeLive, one per connection): joined once.
    private Task? _historyGate;

    // Users whose list was fetched on _fetchedOn: a sender device still unlisted after that is dropped
    // without asking again, so a hostile server cannot make one request out of each envelope.
    private Session? _fetchedOn;
    private readonly HashSet<string> _fetched = new(StringComparer.Ordinal);

    /// <summary>When false, envelopes are stored but never acked (the server will redeliver them): a test switch.</summary>
    public bool AcksEnabled { get; set; } = true;

    /// <summary>How many delivered messages were already stored (redeliveries), acked and not raised again.</summary>
    public int DuplicateDeliveries => Volatile.Read(ref _duplicates);

    private string Me => credentials.User;

    /// <summary>
    /// Completes once every envelope pushed so far is handled (stored, or known to be unusable):
    /// those the read loop handed over and those waiting in the chain behind a device-list fetch.
    /// </summary>
    public Task HandledSoFarAsync() => Volatile.Read(ref _deferred);

    /// <summary>Handles one frame the server pushed on <paramref name="session"/>.</summary>
    public async Task OnPushAsync(Session session, ServerFrame frame)
    {
        switch (frame.BodyCase)
        {
            case ServerFrame.BodyOneofCase.Envelope:
                // History still to import comes first: what arrives live is stored after it.
                if (owner.HistoryBeforeLive(session) is { IsCompleted: false } history && history != _historyGate)
                {
                    _historyGate = history;
                    _deferred = AfterAsync(_deferred, history);
                }
                // DEVICE_LIST_CHANGED makes a request too, so it waits in the chain like a fetch.
                if (!_deferred.IsCompleted || owner.SenderListMissing(frame.Envelope) || frame.Envelope.Kind == EnvelopeKind.DeviceListChanged)
                {
                    _deferred = DeferAsync(_deferred, session, frame.Envelope);
                }
                else
                {
                    await OnEnvelopeAsync(session, frame.Envelope);
                }
                break;
            case ServerFrame.BodyOneofCase.QueueEmpty:
                if (!_deferred.IsCompleted)
                {
                    _deferred = DrainedAfterAsync(_deferred, session);
                }
                else
                {
                    session.Drained.TrySetResult();
                    owner.OnQueueDrained();
                }
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
            case EnvelopeKind.Message when owner.UnheardReason(envelope) is { } unheard:
                // A device the sender's validly signed list does not name (one the server made up), or
                // a listed device speaking with another identity key than the list names: its message
                // is never opened or shown (no session stored), only acked so it is not delivered again.
                owner.OnUnlistedSender(envelope, unheard);
                Ack(session, envelope.Seq);
                break;
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
                    (message, isNew) = await OpenMessageAsync(envelope);
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
                // Nothing follows from a receipt's ack: it may wait to ride with the next one (ParleyClientOptions.ReceiptAckDelay).
                if (AcksEnabled)
                {
                    session.QueueReceiptAck(envelope.Seq);
                }
                foreach (var change in changes)
                {
                    owner.OnMessageStatusChanged(change);
                }
                break;
            case EnvelopeKind.DeviceListChanged:
                if (await owner.OnOwnDevicesChangedAsync(session))
                {
                    Ack(session, envelope.Seq);
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

    /// <summary>
    /// Handles <paramref name="envelope"/> after <paramref name="previous"/>, first fetching its
    /// sender's signed device list over <paramref name="session"/> when the sender device is not in
    /// the trusted one. When the connection ends first, the envelope stays un-acked: the server
    /// delivers it again at the next connect.
    /// </summary>
    private async Task DeferAsync(Task previous, Session session, Envelope envelope)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_fetchedOn != session)
        {
            _fetchedOn = session;
            _fetched.Clear();
        }
        if (session.Connection.Completion.IsCompleted)
        {
            // That connection ended (or the app disconnected): not acked, so redelivered; never handled after the app stopped.
            return;
        }
        try
        {
            if (owner.SenderListMissing(envelope) && _fetched.Add(envelope.Sender))
            {
                await owner.FetchSenderListAsync(session, envelope.Sender);
            }
            if (!session.Connection.Completion.IsCompleted)
            {
                await OnEnvelopeAsync(session, envelope);
            }
        }
        catch (Exception e) when (e is ParleyException or IOException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The connection ended: nothing was acked, so the server redelivers it.
        }
    }

    /// <summary>Completes after both, whatever became of them.</summary>
    private static async Task AfterAsync(Task previous, Task next)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await next.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>The QueueEmpty of <paramref name="session"/>, once the envelopes deferred before it are handled.</summary>
    private async Task DrainedAfterAsync(Task previous, Session session)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        session.Drained.TrySetResult();
        owner.OnQueueDrained();
    }

    /// <summary>Opens a message with the custom cipher and stores it; a copy from another device of this account goes to the owner's sync handling.</summary>
    private async Task<(StoredMessage? Message, bool IsNew)> OpenMessageAsync(Envelope envelope)
    {
        if (envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender))
        {
            return (null, false);
        }
        var fromSelf = envelope.Sender == Me;
        var peer = fromSelf ? envelope.Conversation : envelope.Sender;
        if (!UserName.IsValid(peer) || (peer == Me && !fromSelf) || (fromSelf && envelope.SenderDevice == credentials.DeviceId))
        {
            return (null, false);
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
            return (null, false);
        }
        if (fromSelf)
        {
            // Our own send names its chat only in its transcript (ParleyClient.Sync.cs): the envelope's conversation is the server's word.
            return owner.OpenOwnCopy(content, envelope);
        }
        if (ParleyClient.ShownText(content, out _) is not { } text)
        {
            return (null, false);
        }
        var message = ReceivedText(MessageId.ToText(envelope.MessageId.Span), peer, fromSelf, envelope, text);
        return (message, store.InsertReceived(message, envelope.MessageId.ToByteArray()));
    }

    private List<MessageStatusChangedEventArgs> ApplyReceipt(Envelope envelope)
    {
        var changes = new List<MessageStatusChangedEventArgs>();
        var status = envelope.Kind == EnvelopeKind.ReadReceipt ? MessageStatus.Read : MessageStatus.Delivered;
        if (envelope.Receipts.Count > 0)
        {
            // A coalesced group receipt: each entry is one member device's receipt, of its own ids or, when
            // it names none, of the envelope's receipt_ids (shared by every entry); the id cap holds for the whole envelope.
            int budget = WireLimits.MaxIdsPerFrame;
            foreach (var entry in envelope.Receipts)
            {
                var ids = (entry.MessageIds.Count > 0 ? entry.MessageIds : envelope.ReceiptIds).Take(budget).ToList();
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
            // A READ the server made for another of our devices is not trusted: that device's
            // encrypted read sync (ParleyClient.Sync.cs) marks the messages read here.
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
