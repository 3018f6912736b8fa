using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Events;
using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client.Sending;

/// <summary>
/// The durable outbox: every send is stored before anything goes out, then sent in order on each
/// connection (one pump per connection) until the server answers SENT or refuses it for good.
/// Stale device lists are refreshed and retried, RATE_LIMITED and INTERNAL are waited out. Callers
/// wait for a message by id; a waiter is completed only after the store records the outcome.
/// The SendMessage of an entry is built by the owner's encryption (buildSend; null drops the entry unsent).
/// </summary>
internal sealed class Outbox(
    IClientStore store,
    ParleyClientOptions options,
    DeviceCredentialsProfile credentials,
    ConnectionSupervisor connection,
    Func<Session, OutboxEntry, CancellationToken, Task<SendMessage?>> buildSend,
    Action<MessageStatusChangedEventArgs> statusChanged)
{
    /// <summary>Refusals remembered for waits that start after the refusal (a bound on memory, whatever the rate).</summary>
    private const int RememberedRefusals = 256;

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _sendWaiters = new();
    private readonly ConcurrentDictionary<string, ParleyException> _refusals = new();
    private readonly ConcurrentQueue<string> _refusalOrder = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private string Me => credentials.User;

    /// <summary>Number of messages still waiting for SENT.</summary>
    public int Count => store.OutboxCount();

    /// <summary>Wakes the pump of the current connection: something new is in the outbox.</summary>
    public void Wake() => _signal.Writer.TryWrite(true);

    /// <summary>Stores an outgoing text (status Pending) with its outbox entry and returns its id; a waiter is registered first.</summary>
    public string Add(string peer, string text, byte[] content)
    {
        var id = MessageId.New(options.Time);
        var idText = MessageId.ToText(id);
        // Registered before the entry exists, so a connection already running cannot complete it unseen.
        _sendWaiters.TryAdd(idText, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            store.AddOutgoing(id, peer, Me, credentials.DeviceId, text, options.Time.GetUtcNow().ToUnixTimeMilliseconds(), content);
        }
        catch
        {
            _sendWaiters.TryRemove(idText, out _);
            throw;
        }
        Wake();
        return idText;
    }

    /// <summary>Connects if needed and waits until the entry is SENT; throws when it was refused for good. On cancellation it stays queued.</summary>
    public async Task WaitUntilSentAsync(string messageId, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(messageId) ?? throw new ArgumentException($"Not a message id: {messageId}", nameof(messageId));
        var waiter = _sendWaiters.GetOrAdd(messageId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        // The store is updated before a waiter is completed: an entry gone from the outbox is settled.
        if (!store.InOutbox(id))
        {
            if (!waiter.Task.IsCompleted)
            {
                _sendWaiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(messageId, waiter));
                if (store.Find(id) is { Status: MessageStatus.Failed })
                {
                    // Refused before this wait began (a fast refusal can beat the caller here): the server's reason when known.
                    throw _refusals.TryGetValue(messageId, out var refusal)
                        ? refusal
                        : new ParleyException(ErrorCode.BadRequest, $"Message {messageId} was refused and not sent.", "failed");
                }
                return;
            }
        }
        try
        {
            await connection.GetSessionAsync(cancellationToken);
            await waiter.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The message stays in the outbox for the next connect; a later wait registers again.
            _sendWaiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(messageId, waiter));
            throw;
        }
    }

    /// <summary>Waits for SENT of an entry stored by someone else (an attachment's message): wakes the pump first.</summary>
    public async Task<string> WaitSentAsync(string idText, CancellationToken cancellationToken)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sendWaiters[idText] = sent;
        if (store.Find(MessageId.Parse(idText)!) is { Status: not MessageStatus.Pending } done)
        {
            _sendWaiters.TryRemove(idText, out _);
            return done.Status == MessageStatus.Failed
                ? throw new ParleyException(ErrorCode.BadRequest, "The message with the file could not be sent.")
                : idText;
        }
        Wake();
        try
        {
            await connection.GetSessionAsync(cancellationToken);
            await sent.Task.WaitAsync(cancellationToken);
        }
        catch
        {
            _sendWaiters.TryRemove(idText, out _);
            throw;
        }
        return idText;
    }

    /// <summary>The ids of this account's messages waiting for SENT, oldest first.</summary>
    public IReadOnlyList<string> QueuedMessageIds() =>
        [.. store.OutboxIds()
            .Where(id => store.Find(id) is { Direction: MessageDirection.Outgoing } m && m.Sender == Me)
            .Select(id => MessageId.ToText(id))];

    /// <summary>Waits for each id (by default the queued ones of now); returns those sent, and adds the refused ones with the reason.</summary>
    public async Task<IReadOnlyList<string>> FlushAsync(IReadOnlyList<string>? messageIds,
        ICollection<(string MessageId, string Reason)>? refused, CancellationToken cancellationToken)
    {
        var sent = new List<string>();
        foreach (var id in messageIds ?? QueuedMessageIds())
        {
            try
            {
                await WaitUntilSentAsync(id, cancellationToken);
                sent.Add(id);
            }
            catch (ParleyException e) when (!e.IsConnectionLost)
            {
                refused?.Add((id, e.Message));
            }
        }
        return sent;
    }

    /// <summary>Test hook: puts an already-SENT message back in the outbox and waits until it is SENT again (the server must dedup it).</summary>
    public async Task ResendAsync(string messageId, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(messageId) ?? throw new ArgumentException("Not a message id.", nameof(messageId));
        var message = store.Find(id) ?? throw new ArgumentException("Unknown message.", nameof(messageId));
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sendWaiters[messageId] = sent;
        store.Requeue(id, Me, new Content { Text = new TextMessage { Text = message.Text } }.ToByteArray());
        Wake();
        await connection.GetSessionAsync(cancellationToken);
        await sent.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Fails every waiter with <paramref name="error"/> (the client stopped); the entries stay stored for the next connect.</summary>
    public void FailWaiters(Exception error)
    {
        foreach (var (id, waiter) in _sendWaiters)
        {
            if (_sendWaiters.TryRemove(id, out _))
            {
                waiter.TrySetException(error);
            }
        }
    }

    /// <summary>The per-connection loop: sends entries oldest first, sleeping while the outbox is empty.</summary>
    public async Task PumpAsync(Session session, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = store.NextOutbox();
            if (entry is null)
            {
                await _signal.Reader.ReadAsync(cancellationToken);
                continue;
            }
            await SendEntryAsync(session, entry, cancellationToken);
        }
    }

    /// <summary>The device ids of <paramref name="user"/>: the cached list, else fetched on <paramref name="session"/> and cached.</summary>
    public async Task<IReadOnlyList<uint>> DevicesOnAsync(Session session, string user, CancellationToken cancellationToken)
    {
        if (store.CachedDevices(user) is { Count: > 0 } cached)
        {
            return cached;
        }
        var answer = await session.Connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = user } }, cancellationToken);
        if (answer.BodyCase != ServerFrame.BodyOneofCase.DeviceList)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server did not answer GetDevices with DeviceList.");
        }
        var ids = answer.DeviceList.DeviceIds.Distinct().Take(WireLimits.MaxPayloadsPerSend + 1).ToArray();
        store.CacheDevices(user, ids);
        return ids;
    }

    private async Task SendEntryAsync(Session session, OutboxEntry entry, CancellationToken cancellationToken)
    {
        var idText = MessageId.ToText(entry.Id);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var send = await buildSend(session, entry, cancellationToken);
                if (send is null)
                {
                    // A resend whose device changed identity: dropped unsent.
                    store.CompleteOutbox(entry.Id, Me);
                    return;
                }
                if (send.Payloads.Count > WireLimits.MaxPayloadsPerSend)
                {
                    throw new ParleyException(ErrorCode.TooLarge, "Too many devices to address in one send.");
                }
                // The ratchet steps this send took are durable before its ciphertext leaves: a
                // reloaded device must never encrypt again under the same message keys.
                await store.FlushAsync(cancellationToken);
                var answer = await session.Connection.RequestAsync(new ClientFrame { Send = send }, cancellationToken);
                if (answer.BodyCase != ServerFrame.BodyOneofCase.SendResult)
                {
                    throw new ParleyException(ErrorCode.BadRequest, "The server did not answer SendMessage with SendResult.");
                }
                if (store.CompleteOutbox(entry.Id, Me))
                {
                    statusChanged(new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Sent));
                }
                CompleteSend(idText, null);
                return;
            }
            catch (ParleyException e) when (e.Code == ErrorCode.StaleDevices && attempt < 8)
            {
                // Someone linked or removed a device since we cached the lists: take the server's and retry at once.
                foreach (var list in e.Devices)
                {
                    if (UserName.IsValid(list.User))
                    {
                        store.CacheDevices(list.User, list.DeviceIds);
                    }
                }
                if (e.Devices.Count == 0)
                {
                    // No lists given: drop ours (an empty list counts as not cached) and fetch them again.
                    store.CacheDevices(entry.Peer, []);
                    store.CacheDevices(Me, []);
                }
            }
            catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
            {
                await Task.Delay(connection.RetryDelay(e), options.Time, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.Internal && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), options.Time, cancellationToken);
            }
            catch (ParleyException e) when (e.Code is ErrorCode.UnknownUser or ErrorCode.BadRequest or ErrorCode.TooLarge or ErrorCode.StaleDevices or ErrorCode.Internal or ErrorCode.NotFound or ErrorCode.UnknownType
                or ErrorCode.RecipientQueueFull or ErrorCode.Forbidden)
            {
                // Refused for good: resending would be refused again (a full recipient queue stays
                // full until the recipient comes online, which may take days; the user resends then).
                store.FailOutbox(entry.Id, Me);
                RememberRefusal(idText, e);
                statusChanged(new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Failed));
                CompleteSend(idText, e);
                return;
            }
        }
    }

    private void RememberRefusal(string idText, ParleyException error)
    {
        if (_refusals.TryAdd(idText, error))
        {
            _refusalOrder.Enqueue(idText);
        }
        while (_refusalOrder.Count > RememberedRefusals && _refusalOrder.TryDequeue(out var oldest))
        {
            _refusals.TryRemove(oldest, out _);
        }
    }

    private void CompleteSend(string idText, Exception? error)
    {
        if (_sendWaiters.TryRemove(idText, out var waiter))
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }
}
