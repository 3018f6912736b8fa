using System.Net.WebSockets;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Messaging;

namespace Parley.Server.Gateway;

/// <summary>
/// One authenticated device's WebSocket. Only its send loop writes to the socket: responses and
/// ephemeral pushes wait in a bounded control queue; envelopes come from the durable queue
/// (drain) or straight from the commit (live), always in seq order, at most MaxInFlight unacked.
/// Live envelopes that find the bounded live queue full are dropped here and read back from the
/// database instead, so a slow reader costs the server nothing but a flag. Each pass of the send
/// loop writes everything ready and flushes once: one send syscall for a batch of frames.
/// </summary>
public sealed class DeviceConnection
{
    private const int DrainPage = 256;

    /// <summary>Bytes one pass writes before it flushes, so a long drain goes out in pieces.</summary>
    private const int FlushBytes = 64 * 1024;

    private static readonly List<(Envelope Envelope, byte[]? Frame)> NoEnvelopes = [];
    private static readonly List<ulong> NoSyncs = [];

    private readonly PipeWebSocket _socket;
    private readonly IMessageStore _store;
    private readonly int _maxInFlight;
    private readonly long _maxInFlightBytes;
    private readonly int _maxQueued;
    private readonly TimeSpan _sendTimeout;
    private ITimer? _sendDeadline;
    private int _timedOut;
    private readonly AsyncSignal _wake = new();

    // Delivery state, guarded by _delivery.
    private readonly Lock _delivery = new();
    // Live envelopes, each with its ServerFrame bytes when encoded once for many devices (a fan-out).
    private readonly Queue<(Envelope Envelope, byte[]? Frame)> _live = new();
    private readonly Queue<ServerFrame> _control = new();
    private readonly Queue<ulong> _syncs = new(); // request ids of Syncs waiting for what was queued before them to go out
    private readonly Dictionary<ulong, (Envelope Envelope, int Size)> _inFlight = []; // the size taken in is the size given back, computed once
    private long _inFlightBytes;
    private bool _needsRead = true;
    private bool _queueEmptySent;
    private ulong _lastSentSeq;

    private byte[]? _pong;
    private WebSocketCloseStatus? _closeStatus;
    private string _closeReason = "";
    private long _lastActivity;

    private readonly IFrameObserver? _observer;

    public DeviceConnection(PipeWebSocket socket, Account account, uint deviceId, IMessageStore store, DeliveryLimits limits, TimeProvider time,
        IFrameObserver? observer = null)
    {
        _observer = observer;
        _socket = socket;
        Account = account;
        DeviceId = deviceId;
        DeviceKey = new DeviceAddress(account.Id, deviceId).Key;
        _store = store;
        _maxInFlight = limits.MaxInFlight;
        _maxInFlightBytes = limits.MaxInFlightBytes;
        _maxQueued = limits.MaxQueued;
        _sendTimeout = limits.SendTimeout;
        Time = time;
        Touch();
    }

    public Account Account { get; }

    public uint DeviceId { get; }

    public long DeviceKey { get; }

    public TimeProvider Time { get; }

    /// <summary>Cancelled when the connection is closing; pending work for it should stop.</summary>
    public CancellationTokenSource Closing { get; } = new();

    /// <summary>Users whose presence this connection watches (owned by PresenceHub).</summary>
    public HashSet<long> WatchedAccounts { get; } = [];

    public long LastActivityTimestamp => Interlocked.Read(ref _lastActivity);

    /// <summary>True once the connection was aborted because a write waited longer than the send timeout.</summary>
    public bool SendTimedOut => Volatile.Read(ref _timedOut) == 1;

    /// <summary>Bytes of envelopes sent and not yet acked.</summary>
    public long InFlightBytes
    {
        get
        {
            lock (_delivery)
            {
                return _inFlightBytes;
            }
        }
    }

    public void Touch() => Interlocked.Exchange(ref _lastActivity, Time.GetTimestamp());

    /// <summary>
    /// Queues a response or push. False when the control queue is full: for a response that means
    /// the client sends requests without reading answers, and the caller closes the connection.
    /// </summary>
    public bool TrySend(ServerFrame frame) => TryQueue(_control, frame);

    /// <summary>
    /// Queues the answer to a Sync: a QueueEmpty with <paramref name="requestId"/>, written after
    /// every envelope offered to this connection before now (a live envelope is offered before its
    /// commit answers anyone), once none is left unsent: the live queue empty and no read of the
    /// durable queue pending. False when too many wait (a client that does not read its answers).
    /// </summary>
    public bool RequestSync(ulong requestId) => TryQueue(_syncs, requestId);

    /// <summary>Adds to one of the bounded queues the send loop empties, and wakes it; false when full.</summary>
    private bool TryQueue<T>(Queue<T> queue, T item)
    {
        lock (_delivery)
        {
            if (queue.Count >= _maxQueued)
            {
                return false;
            }
            queue.Enqueue(item);
        }
        _wake.Signal();
        return true;
    }

    /// <summary>Queues a pong for a WebSocket ping; only the latest ping is answered (RFC 6455 allows it).</summary>
    public void QueuePong(ReadOnlySpan<byte> payload)
    {
        lock (_delivery)
        {
            _pong = payload.ToArray();
        }
        _wake.Signal();
    }

    /// <summary>
    /// Called on the commit thread for each new envelope of this device, in seq order;
    /// <paramref name="frame"/>, when given, is its ServerFrame already encoded (shared with the other
    /// devices of a fan-out, never changed), written as is.
    /// </summary>
    public void OfferEnvelope(Envelope envelope, byte[]? frame = null)
    {
        lock (_delivery)
        {
            if (_needsRead || _live.Count >= _maxQueued)
            {
                // Either a database read is pending anyway (it will see this envelope), or the
                // client is behind: drop the live copy; the durable queue has it.
                _needsRead = true;
                _live.Clear();
            }
            else
            {
                _live.Enqueue((envelope, frame));
            }
        }
        _wake.Signal();
    }

    /// <summary>Takes acked seqs out of the in-flight window; returns the envelopes acked and the seqs not in flight here (null: none).</summary>
    public (List<Envelope> Acked, List<ulong>? Unknown) TakeAcked(IList<ulong> seqs)
    {
        var acked = new List<Envelope>(seqs.Count);
        List<ulong>? unknown = null;
        bool waiting;
        lock (_delivery)
        {
            for (int i = 0; i < seqs.Count; i++)
            {
                if (_inFlight.Remove(seqs[i], out var entry))
                {
                    _inFlightBytes -= entry.Size;
                    acked.Add(entry.Envelope);
                }
                else
                {
                    (unknown ??= []).Add(seqs[i]);
                }
            }
            // The send loop sleeps with envelopes pending only when the window was full: wake it
            // only then. An ack of a window with room left owes the socket nothing, and waking
            // the loop anyway cost a thread-pool item and a context switch per ack.
            waiting = _needsRead || _live.Count > 0;
        }
        if (acked.Count > 0 && waiting)
        {
            _wake.Signal();
        }
        return (acked, unknown);
    }

    /// <summary>Asks the send loop to flush what is queued, send a close frame and stop.</summary>
    public void RequestClose(WebSocketCloseStatus status, string reason)
    {
        lock (_delivery)
        {
            _closeStatus ??= status;
            _closeReason = reason;
        }
        _wake.Signal();
    }

    /// <summary>Writes frames until the connection closes. The only writer of the socket.</summary>
    public async Task RunSendLoopAsync()
    {
        var token = Closing.Token;
        _wake.Signal();
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _wake.WaitAsync();
                while (!token.IsCancellationRequested)
                {
                    bool wrote = false;
                    while (NextControl() is { } frame)
                    {
                        _socket.Write(frame, _observer);
                        wrote = true;
                        if (_socket.UnflushedBytes >= FlushBytes)
                        {
                            await FlushAsync(token);
                        }
                    }
                    if (TakePong() is { } pong)
                    {
                        _socket.WritePong(pong);
                        wrote = true;
                    }
                    if (TakeClose() is { } close)
                    {
                        await CloseAsync(close.Status, close.Reason);
                        // Give the peer a moment to answer the close so the TCP connection ends
                        // cleanly (an abort now could reset it before the close frame is read).
                        Closing.CancelAfter(TimeSpan.FromSeconds(2));
                        return;
                    }
                    if (AsyncSignal.ReleasingInline && NeedsRead())
                    {
                        // This pass runs on the group-commit thread (ParleyOptions.InlineSendWakes):
                        // the durable queue's read must not hold the next commit up.
                        await Task.Yield();
                    }
                    var (envelopes, drained) = NextEnvelopes();
                    foreach (var (envelope, frame) in envelopes)
                    {
                        if (frame is not null)
                        {
                            _socket.Write(frame, _observer);
                        }
                        else
                        {
                            _socket.Write(new ServerFrame { Envelope = envelope }, _observer);
                        }
                        if (_socket.UnflushedBytes >= FlushBytes)
                        {
                            await FlushAsync(token);
                        }
                    }
                    if (drained)
                    {
                        _socket.Write(new ServerFrame { QueueEmpty = new QueueEmpty() }, _observer);
                    }
                    var syncs = TakeSyncAnswers();
                    foreach (var requestId in syncs)
                    {
                        _socket.Write(new ServerFrame { RequestId = requestId, QueueEmpty = new QueueEmpty() }, _observer);
                    }
                    if (!wrote && envelopes.Count == 0 && !drained && syncs.Count == 0)
                    {
                        break;
                    }
                    await FlushAsync(token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The connection is gone; the durable queue keeps whatever was not acked.
        }
        catch
        {
            await Closing.CancelAsync();
            throw;
        }
        finally
        {
            _sendDeadline?.Dispose();
        }
        await Closing.CancelAsync();
    }

    /// <summary>
    /// Sends what the pass wrote; throws <see cref="IOException"/> when the peer is gone. A flush
    /// that waits (the peer is not reading and the buffers are full) gets the send timeout, then
    /// the connection is aborted: a close frame could not get through either.
    /// </summary>
    private async ValueTask FlushAsync(CancellationToken token)
    {
        var flush = _socket.FlushAsync(token);
        System.IO.Pipelines.FlushResult result;
        if (flush.IsCompleted)
        {
            result = flush.Result;
        }
        else
        {
            // Armed only when the flush has to wait, which a reading peer rarely makes it do.
            (_sendDeadline ??= Time.CreateTimer(static state => ((DeviceConnection)state!).AbortStalled(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan))
                .Change(_sendTimeout, Timeout.InfiniteTimeSpan);
            try
            {
                result = await flush;
            }
            finally
            {
                _sendDeadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new IOException("the connection is gone");
        }
    }

    private void AbortStalled()
    {
        Volatile.Write(ref _timedOut, 1);
        Closing.Cancel();
        _socket.Abort();
    }

    private ServerFrame? NextControl()
    {
        lock (_delivery)
        {
            return _control.TryDequeue(out var frame) ? frame : null;
        }
    }

    private byte[]? TakePong()
    {
        lock (_delivery)
        {
            var pong = _pong;
            _pong = null;
            return pong;
        }
    }

    private (WebSocketCloseStatus Status, string Reason)? TakeClose()
    {
        lock (_delivery)
        {
            return _closeStatus is { } status ? (status, _closeReason) : null;
        }
    }

    /// <summary>The Syncs that can be answered now: nothing offered before them is left to send.</summary>
    private List<ulong> TakeSyncAnswers()
    {
        lock (_delivery)
        {
            if (_syncs.Count == 0 || _needsRead || _live.Count > 0)
            {
                return NoSyncs;
            }
            var ids = new List<ulong>(_syncs);
            _syncs.Clear();
            return ids;
        }
    }

    private bool NeedsRead()
    {
        lock (_delivery)
        {
            return _needsRead;
        }
    }

    private (List<(Envelope Envelope, byte[]? Frame)> Envelopes, bool Drained) NextEnvelopes()
    {
        ulong after;
        int room;
        lock (_delivery)
        {
            room = _maxInFlight - _inFlight.Count;
            if (room <= 0 || InFlightFull())
            {
                return (NoEnvelopes, false);
            }
            if (!_needsRead)
            {
                if (_live.Count == 0)
                {
                    return (NoEnvelopes, false); // the common case when woken for a response
                }
                var live = new List<(Envelope, byte[]?)>(Math.Min(room, _live.Count));
                while (live.Count < room && !InFlightFull() && _live.TryDequeue(out var next))
                {
                    if (next.Envelope.Seq > _lastSentSeq)
                    {
                        _lastSentSeq = next.Envelope.Seq;
                        TakeInFlight(next.Envelope, next.Frame?.Length);
                        live.Add(next);
                    }
                }
                return (live, false);
            }
            _needsRead = false;
            _live.Clear();
            after = _lastSentSeq;
        }

        int limit = Math.Min(room, DrainPage);
        var page = _store.ReadQueue(DeviceKey, after, limit);
        lock (_delivery)
        {
            var fresh = new List<(Envelope, byte[]?)>(page.Count);
            bool full = false;
            foreach (var envelope in page)
            {
                if (InFlightFull())
                {
                    // The rest of the page stays in the durable queue, read again once acks free room.
                    full = true;
                    break;
                }
                if (envelope.Seq > _lastSentSeq)
                {
                    _lastSentSeq = envelope.Seq;
                    TakeInFlight(envelope, null);
                    fresh.Add((envelope, null));
                }
            }
            if (page.Count == limit || full)
            {
                _needsRead = true; // more may be waiting
            }
            bool drained = !_needsRead && !_queueEmptySent;
            _queueEmptySent |= drained;
            return (fresh, drained);
        }
    }

    /// <summary>At the byte budget; an empty window always takes one envelope, however large. Caller holds <see cref="_delivery"/>.</summary>
    private bool InFlightFull() => _inFlight.Count > 0 && _inFlightBytes >= _maxInFlightBytes;

    private void TakeInFlight(Envelope envelope, int? encodedSize)
    {
        int size = encodedSize ?? envelope.CalculateSize();
        _inFlight[envelope.Seq] = (envelope, size);
        _inFlightBytes += size;
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            _socket.WriteClose(status, reason);
            await _socket.FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            _socket.Abort();
        }
    }
}
