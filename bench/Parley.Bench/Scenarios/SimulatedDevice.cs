using System.Buffers.Binary;
using System.Diagnostics;
using Google.Protobuf;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// One connected device in the one-to-one scenario: it sends 256-byte payloads (send time stamped
/// in the first 8 bytes) to random peers within a bounded window, and acks what it receives,
/// coalescing acks while a previous Ack is still being written (one per envelope when idle,
/// batches under load — what a real client storing messages would do).
/// </summary>
internal sealed class SimulatedDevice
{
    public const int PayloadBytes = 256;

    private readonly ChatTraffic _traffic;
    private readonly Dictionary<ulong, long> _inFlight = [];
    private readonly ClientFrame _sendFrame;
    private readonly DevicePayload _devicePayload;
    private readonly byte[] _payload = new byte[PayloadBytes];
    private readonly byte[] _messageId = new byte[WireLimits.MessageIdBytes];
    private readonly Random _random;
    private readonly List<ulong> _pendingAcks = [];
    private readonly ClientFrame _ackFrame = new() { Ack = new Ack() };
    private ulong _messageCounter;
    private int _ackFlushing;

    public SimulatedDevice(WireConnection connection, DeviceCredentials device, ChatTraffic traffic, int window, int seed)
    {
        Connection = connection;
        Device = device;
        _traffic = traffic;
        Window = new SemaphoreSlim(window, window);
        _random = new Random(seed);
        _random.NextBytes(_payload);
        _random.NextBytes(_messageId);
        _devicePayload = new DevicePayload { Payload = UnsafeByteOperations.UnsafeWrap(_payload) };
        _sendFrame = new ClientFrame
        {
            Send = new SendMessage { MessageId = UnsafeByteOperations.UnsafeWrap(_messageId), Kind = EnvelopeKind.Message },
        };
        _sendFrame.Send.Payloads.Add(_devicePayload);
    }

    public WireConnection Connection { get; }

    public DeviceCredentials Device { get; }

    /// <summary>Free slots for sends awaiting SENT.</summary>
    public SemaphoreSlim Window { get; }

    /// <summary>Sends the pacer has asked this device to make (paced runs only).</summary>
    public SemaphoreSlim Tokens { get; } = new(0, int.MaxValue);

    public TaskCompletionSource QueueEmpty { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sends a Ping: any frame the server queued for this connection but did not write goes out with the Pong.</summary>
    public ValueTask PingAsync() =>
        Connection.SendAsync(new ClientFrame { RequestId = Connection.NextRequestId(), Ping = new Ping() }, CancellationToken.None);

    public int InFlight
    {
        get
        {
            lock (_inFlight)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Sends until <paramref name="stop"/>; with <paramref name="paced"/>, one send per token.</summary>
    public async Task SendLoopAsync(SimulatedDevice[] everyone, bool paced, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                if (paced)
                {
                    await Tokens.WaitAsync(stop);
                }
                await Window.WaitAsync(stop);
                int pick = _random.Next(everyone.Length - 1);
                var peer = everyone[pick] == this ? everyone[^1] : everyone[pick];
                // Not cancellable: a send cut off half-way would abort the socket, and one never
                // written would stay counted as in flight.
                await SendToAsync(peer.Device, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private ValueTask SendToAsync(DeviceCredentials peer, CancellationToken ct)
    {
        // A UUIDv7-shaped id that is unique per sender device: ms timestamp, then a counter.
        long ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt64BigEndian(_messageId, ms << 16);
        BinaryPrimitives.WriteUInt64BigEndian(_messageId.AsSpan(8), ++_messageCounter);
        _messageId[6] = (byte)(0x70 | (_messageId[6] & 0x0F));
        _messageId[8] = (byte)(0x80 | (_messageId[8] & 0x3F));

        var send = _sendFrame.Send;
        send.Recipient = peer.User;
        send.SentAt = ms;
        _devicePayload.User = peer.User;
        _devicePayload.DeviceId = peer.DeviceId;
        ulong requestId = Connection.NextRequestId();
        _sendFrame.RequestId = requestId;
        long now = Stopwatch.GetTimestamp();
        BinaryPrimitives.WriteInt64LittleEndian(_payload, now);
        lock (_inFlight)
        {
            _inFlight[requestId] = now;
        }
        return Connection.SendAsync(_sendFrame, ct);
    }

    /// <summary>Handles server frames until the connection closes or <paramref name="ct"/> is cancelled.</summary>
    public async Task ReceiveLoopAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                int length = await Connection.ReceiveRawAsync(ct);
                if (length < 0)
                {
                    _traffic.ConnectionClosed(Connection);
                    return;
                }
                Handle(ServerFrameView.Parse(Connection.Received(length)));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopped
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            // An aborted socket ends a pending receive with one of these: it is a close too.
            _traffic.ConnectionClosed(Connection);
        }
    }

    private void Handle(ServerFrameView frame)
    {
        switch (frame.Body)
        {
            case ServerFrameView.SendResultField:
                if (TryCompleteSend(frame.RequestId, out long sentAt))
                {
                    _traffic.SentLatency.RecordSince(sentAt);
                    Interlocked.Increment(ref _traffic.Sent);
                }
                break;
            case ServerFrameView.ErrorField:
                TryCompleteSend(frame.RequestId, out _);
                _traffic.Failed((ErrorCode)frame.ErrorCode);
                break;
            case ServerFrameView.EnvelopeField:
                if (frame.Kind == (int)EnvelopeKind.Message && frame.Payload.Length >= 8)
                {
                    _traffic.EndToEnd.RecordSince(frame.PayloadTimestamp);
                    Interlocked.Increment(ref _traffic.Delivered);
                }
                else if (frame.Kind == (int)EnvelopeKind.DeliveryReceipt)
                {
                    // One receipt envelope may carry the ids of several messages acked together.
                    Interlocked.Add(ref _traffic.Receipts, frame.ReceiptIds);
                }
                EnqueueAck(frame.Seq);
                break;
            case ServerFrameView.AckResultField:
                if (frame.UnknownSeqs > 0)
                {
                    Interlocked.Add(ref _traffic.UnknownAcks, frame.UnknownSeqs);
                }
                break;
            case ServerFrameView.QueueEmptyField:
                QueueEmpty.TrySetResult();
                break;
            default:
                break;
        }
    }

    private bool TryCompleteSend(ulong requestId, out long sentAt)
    {
        bool found;
        lock (_inFlight)
        {
            found = _inFlight.Remove(requestId, out sentAt);
        }
        if (found)
        {
            Window.Release();
        }
        return found;
    }

    private void EnqueueAck(ulong seq)
    {
        lock (_pendingAcks)
        {
            _pendingAcks.Add(seq);
        }
        if (Interlocked.CompareExchange(ref _ackFlushing, 1, 0) == 0)
        {
            _ = FlushAcksAsync();
        }
    }

    private async Task FlushAcksAsync()
    {
        try
        {
            while (true)
            {
                var seqs = _ackFrame.Ack.Seqs;
                seqs.Clear();
                lock (_pendingAcks)
                {
                    int take = Math.Min(_pendingAcks.Count, WireLimits.MaxIdsPerFrame);
                    for (int i = 0; i < take; i++)
                    {
                        seqs.Add(_pendingAcks[i]);
                    }
                    _pendingAcks.RemoveRange(0, take);
                }
                if (seqs.Count == 0)
                {
                    Volatile.Write(ref _ackFlushing, 0);
                    // An ack enqueued between the empty check and the flag reset would be stranded.
                    lock (_pendingAcks)
                    {
                        if (_pendingAcks.Count == 0 || Interlocked.CompareExchange(ref _ackFlushing, 1, 0) != 0)
                        {
                            return;
                        }
                    }
                    continue;
                }
                _ackFrame.RequestId = Connection.NextRequestId();
                await Connection.SendAsync(_ackFrame, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            Volatile.Write(ref _ackFlushing, 0); // the connection is gone; its close is counted by the receive loop
        }
    }
}
