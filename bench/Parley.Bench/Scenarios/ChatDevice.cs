using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// One device of the one-to-one scenario on a raw non-blocking socket, driven by the
/// <see cref="DeviceLoop"/> that owns it (one thread: nothing here is locked). It keeps an input
/// carry for partial frames, an output buffer that collects every frame of one loop pass for a
/// single send(), the sends awaiting SENT, and the seqs to ack in the next pass.
/// </summary>
internal sealed unsafe class ChatDevice : IDisposable
{
    public const int PayloadBytes = 256;

    private const int MaxServerPayload = WireLimits.MaxFrameBytes + 1024;

    // Past this much output waiting for the socket, the device adds no new sends (acks still go out).
    private const int OutputHighWater = 64 * 1024;

    // Lazy receipt acks: held seqs that go without waiting, as the SDK's ParleyClientOptions.HeldReceiptAcksMax.
    private const int HeldReceiptAcksMax = 64;

    private readonly Socket _socket;
    private readonly ChatTraffic _traffic;
    private readonly Dictionary<ulong, long> _inFlight;
    private readonly byte[] _payload = new byte[PayloadBytes];
    private readonly byte[] _messageId = new byte[WireLimits.MessageIdBytes];
    private readonly uint _mask;
    private readonly bool _ackRequests;
    private byte[] _output = new byte[4096];
    private int _outputStart, _outputEnd;
    private byte[] _carry = new byte[4096];
    private int _carryLength;
    private ulong[] _acks = new ulong[64];
    private int _ackCount;
    private readonly bool _lazyReceiptAcks;
    private readonly long _receiptAckDelayMs;
    private readonly ulong[] _heldReceipts = new ulong[HeldReceiptAcksMax];
    private int _heldCount;
    private byte[]? _fragments;
    private int _fragmentLength;
    private ulong _requestId, _messageCounter;
    private int _epoll = -1;
    private uint _token;
    private bool _waitingToWrite;
    private int _framePayloadAt; // where the frame BeginFrame started puts its payload

    private ChatDevice(Socket socket, DeviceCredentials device, ChatTraffic traffic, int window, int seed)
    {
        _ackRequests = traffic.AckRequests;
        _lazyReceiptAcks = traffic.LazyReceiptAcks;
        _receiptAckDelayMs = traffic.ReceiptAckDelayMs;
        _socket = socket;
        Fd = (int)socket.Handle;
        Device = device;
        _traffic = traffic;
        WindowFree = window;
        _inFlight = new Dictionary<ulong, long>(window);
        var random = new Random(seed);
        random.NextBytes(_payload);
        random.NextBytes(_messageId);
        _mask = (uint)random.Next() | 1u; // any key will do; never 0, so the masking is real
        Address = ClientFrameEncoding.Address(device, PayloadBytes);
    }

    public int Fd { get; }

    public DeviceCredentials Device { get; }

    /// <summary>What a sender writes into its SendMessage to address this device (see <see cref="ClientFrameEncoding.Address"/>).</summary>
    public byte[] Address { get; }

    /// <summary>Free slots for sends awaiting SENT.</summary>
    public int WindowFree { get; private set; }

    /// <summary>Sends the pacer has asked this device to make (paced runs only).</summary>
    public long Tokens { get; set; }

    /// <summary>Lazy receipt acks: when (the loop's clock, ms) the oldest held receipt seq was first flushed; -1 when none is held or not yet.</summary>
    public long HeldSinceMs { get; private set; } = -1;

    /// <summary>Queued for a flush in the current loop pass.</summary>
    public bool Dirty { get; set; }

    public bool IsClosed { get; private set; }

    /// <summary>
    /// Connects with blocking calls (no .NET async operation ever touches the socket, so the
    /// runtime's own epoll never sees it), upgrades, sends Hello, waits for Welcome and QueueEmpty,
    /// then makes the socket non-blocking for a <see cref="DeviceLoop"/>.
    /// </summary>
    /// <summary>One-to-one with <c>--peers K</c>: the only recipients this device picks from (null: anyone but itself).</summary>
    public ChatDevice[]? Peers { get; set; }

    public static ChatDevice Open(Uri server, DeviceCredentials device, ChatTraffic traffic, int window, int seed)
    {
        var host = server.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(server.Host);
        var socket = new Socket(host.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = 30_000,
            SendTimeout = 30_000,
        };
        try
        {
            socket.Connect(new IPEndPoint(host, server.Port));
            var chat = new ChatDevice(socket, device, traffic, window, seed);
            chat.Upgrade(server);
            chat.Hello();
            socket.Blocking = false;
            return chat;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Registers the socket with <paramref name="epoll"/> for input; events carry <paramref name="token"/>.</summary>
    public void Attach(int epoll, uint token)
    {
        _epoll = epoll;
        _token = token;
        Libc.EpollControl(epoll, Libc.EpollCtlAdd, Fd, Libc.EpollIn | Libc.EpollRdHup, token);
    }

    /// <summary>Sends awaiting SENT.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Reads what the socket holds into the loop's shared <paramref name="buffer"/> (after this
    /// device's carried partial frame) and handles every whole frame; what is left of a partial
    /// frame is carried. One recv unless it filled the buffer: epoll is level-triggered.
    /// </summary>
    public void Receive(ref byte[] buffer)
    {
        if (IsClosed)
        {
            return;
        }
        int have = _carryLength;
        while (buffer.Length <= have)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }
        _carry.AsSpan(0, have).CopyTo(buffer);
        _carryLength = 0;
        try
        {
            while (true)
            {
                if (have == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // one frame larger than the buffer
                }
                int free = buffer.Length - have;
                nint n;
                fixed (byte* p = buffer)
                {
                    n = Libc.Recv(Fd, p + have, (nuint)free, 0);
                }
                if (n > 0)
                {
                    have += (int)n;
                    int used = Consume(buffer.AsSpan(0, have));
                    if (IsClosed)
                    {
                        return;
                    }
                    buffer.AsSpan(used, have - used).CopyTo(buffer);
                    have -= used;
                    if (n < free)
                    {
                        break;
                    }
                    continue;
                }
                if (n == 0)
                {
                    Closed("the server closed the socket without a close frame");
                    return;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EAgain)
                {
                    break;
                }
                if (errno != Libc.EIntr)
                {
                    Closed($"recv failed: errno {errno}");
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            Closed($"bad frame from the server: {ex.Message}");
            return;
        }
        if (have > 0)
        {
            if (_carry.Length < have)
            {
                _carry = new byte[Math.Max(have, _carry.Length * 2)];
            }
            buffer.AsSpan(0, have).CopyTo(_carry);
            _carryLength = have;
        }
    }

    /// <summary>
    /// Writes this pass's frames (one Ack with every seq received, then new sends as the window
    /// and, when <paramref name="paced"/>, the tokens allow) and sends the output buffer with one
    /// send(); what the socket does not take waits for EPOLLOUT. With lazy receipt acks, receipt
    /// seqs join the Ack only when the pass writes something anyway (a message ack, a send, a
    /// control frame), when the oldest is <see cref="ChatTraffic.ReceiptAckDelayMs"/> old at
    /// <paramref name="clockMs"/>, when the cap is reached, or once sending has stopped.
    /// </summary>
    public void Flush(bool sending, bool paced, ChatDevice[] everyone, Random random, long nowMs, long clockMs)
    {
        if (IsClosed)
        {
            return;
        }
        bool willSend = sending && _outputEnd - _outputStart < OutputHighWater && WindowFree > 0 && (!paced || Tokens > 0);
        if (_heldCount > 0)
        {
            bool company = _ackCount > 0 || willSend || _outputEnd > _outputStart;
            if (company || !sending || _heldCount == HeldReceiptAcksMax || (HeldSinceMs >= 0 && clockMs - HeldSinceMs >= _receiptAckDelayMs))
            {
                ReleaseHeldReceipts(company);
            }
            else if (HeldSinceMs < 0)
            {
                HeldSinceMs = clockMs;
            }
        }
        WriteAcks();
        if (willSend && Group is { } group)
        {
            // group-fanout: one SendGroupMessage to this device's group per token (or window slot).
            do
            {
                WriteGroupSend(group(nowMs));
                WindowFree--;
                if (paced)
                {
                    Tokens--;
                    _traffic.TokensSpent++;
                }
            }
            while (WindowFree > 0 && (!paced || Tokens > 0));
        }
        else if (willSend && Group is null)
        {
            long timestamp = Stopwatch.GetTimestamp();
            do
            {
                ChatDevice peer;
                if (Peers is { } peers)
                {
                    peer = peers[random.Next(peers.Length)];
                }
                else
                {
                    int pick = random.Next(everyone.Length - 1);
                    peer = everyone[pick] == this ? everyone[^1] : everyone[pick];
                }
                WriteSend(peer.Address, nowMs, timestamp);
                WindowFree--;
                if (paced)
                {
                    Tokens--;
                    _traffic.TokensSpent++;
                }
            }
            while (WindowFree > 0 && (!paced || Tokens > 0));
        }
        WriteOut();
    }

    /// <summary>group-fanout: makes this device's next group send (its group and device set, a fresh body); null for one-to-one traffic.</summary>
    public Func<long, SendGroupMessage>? Group { get; set; }

    /// <summary>
    /// Makes a request while the socket is still blocking (before the loop owns it), acking any
    /// envelope that arrives meanwhile with the first pass; returns the answer.
    /// </summary>
    public ServerFrame RequestBlocking(ClientFrame frame)
    {
        frame.RequestId = ++_requestId;
        _socket.Blocking = true;
        try
        {
            var bytes = frame.ToByteArray();
            bytes.CopyTo(BeginFrame(WebSocketFraming.Binary, bytes.Length));
            EndFrame(bytes.Length);
            _socket.Send(_output.AsSpan(_outputStart, _outputEnd - _outputStart));
            _outputStart = _outputEnd = 0;
            while (true)
            {
                var answer = ReadFrameBlocking();
                if (answer is null)
                {
                    continue;
                }
                if (answer.BodyCase == ServerFrame.BodyOneofCase.Envelope)
                {
                    if (_ackCount == _acks.Length)
                    {
                        Array.Resize(ref _acks, _acks.Length * 2);
                    }
                    _acks[_ackCount++] = answer.Envelope.Seq;
                    continue;
                }
                if (answer.RequestId == frame.RequestId)
                {
                    return answer;
                }
            }
        }
        finally
        {
            _socket.Blocking = false;
        }
    }

    /// <summary>Queues a Ping: whatever the server has queued for this connection but not written goes out with the Pong.</summary>
    public void QueuePing()
    {
        if (IsClosed)
        {
            return;
        }
        ulong id = ++_requestId;
        int length = ClientFrameEncoding.PingLength(id);
        ClientFrameEncoding.WritePing(BeginFrame(WebSocketFraming.Binary, length), id);
        EndFrame(length);
    }

    /// <summary>Sends a normal close (1000) as far as the socket takes it, after the acks still held; the run is over for this device.</summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }
        ReleaseHeldReceipts(company: false);
        WriteAcks();
        BinaryPrimitives.WriteUInt16BigEndian(BeginFrame(WebSocketFraming.Close, 2), 1000);
        EndFrame(2);
        WriteOut();
        IsClosed = true;
    }

    public void Dispose() => _socket.Dispose();

    private int Consume(ReadOnlySpan<byte> data)
    {
        int at = 0;
        while (!IsClosed && WebSocketFraming.TryReadServerHeader(data[at..], MaxServerPayload, out bool fin, out int opcode, out int header, out int length)
               && data.Length - at >= header + length)
        {
            var payload = data.Slice(at + header, length);
            at += header + length;
            OnFrame(fin, opcode, payload);
        }
        return at;
    }

    private void OnFrame(bool fin, int opcode, ReadOnlySpan<byte> payload)
    {
        switch (opcode)
        {
            case WebSocketFraming.Binary when fin && _fragments is null:
                Handle(ServerFrameView.Parse(payload));
                break;
            case WebSocketFraming.Binary when _fragments is null:
            case WebSocketFraming.Continuation when _fragments is not null:
                // A message in several frames: rare (the server writes whole messages), so copied.
                _fragments ??= new byte[Math.Max(4096, payload.Length * 2)];
                if (_fragmentLength + payload.Length > MaxServerPayload)
                {
                    throw new InvalidDataException("fragmented message too large");
                }
                if (_fragments.Length < _fragmentLength + payload.Length)
                {
                    Array.Resize(ref _fragments, Math.Max(_fragments.Length * 2, _fragmentLength + payload.Length));
                }
                payload.CopyTo(_fragments.AsSpan(_fragmentLength));
                _fragmentLength += payload.Length;
                if (fin)
                {
                    var whole = _fragments.AsSpan(0, _fragmentLength);
                    _fragments = null;
                    _fragmentLength = 0;
                    Handle(ServerFrameView.Parse(whole));
                }
                break;
            case WebSocketFraming.Close:
                int code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                string reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload[2..]) : "";
                BinaryPrimitives.WriteUInt16BigEndian(BeginFrame(WebSocketFraming.Close, 2), (ushort)code);
                EndFrame(2);
                WriteOut();
                Closed($"{code} {reason}");
                break;
            case WebSocketFraming.Ping:
                payload.CopyTo(BeginFrame(WebSocketFraming.Pong, payload.Length));
                EndFrame(payload.Length); // goes out with this pass's flush
                break;
            case WebSocketFraming.Pong:
                break;
            default:
                throw new InvalidDataException($"unexpected WebSocket opcode {opcode}");
        }
    }

    private void Handle(ServerFrameView frame)
    {
        switch (frame.Body)
        {
            case ServerFrameView.SendResultField:
                if (_inFlight.Remove(frame.RequestId, out long sentAt))
                {
                    _traffic.SentLatency.RecordSince(sentAt);
                    _traffic.Sent++;
                    _traffic.InFlight--;
                    WindowFree++;
                }
                break;
            case ServerFrameView.ErrorField:
                if (_inFlight.Remove(frame.RequestId))
                {
                    _traffic.InFlight--;
                    WindowFree++;
                }
                _traffic.Failed((ErrorCode)frame.ErrorCode);
                break;
            case ServerFrameView.EnvelopeField:
                if (frame.Kind == (int)EnvelopeKind.Message && frame.Payload.Length >= 8)
                {
                    _traffic.EndToEnd.RecordSince(frame.PayloadTimestamp);
                    _traffic.Delivered++;
                    _traffic.GroupDelivered?.Invoke(frame.Payload);
                }
                else if (frame.Kind == (int)EnvelopeKind.DeliveryReceipt)
                {
                    // One receipt envelope may carry the ids of several messages acked together.
                    _traffic.Receipts += frame.ReceiptIds;
                }
                if (_lazyReceiptAcks && frame.Kind is (int)EnvelopeKind.DeliveryReceipt or (int)EnvelopeKind.ReadReceipt && _heldCount < HeldReceiptAcksMax)
                {
                    // Nothing follows from a receipt's ack: it waits for a pass that writes anyway (Flush).
                    _heldReceipts[_heldCount++] = frame.Seq;
                    break;
                }
                if (_ackCount == _acks.Length)
                {
                    Array.Resize(ref _acks, _acks.Length * 2);
                }
                _acks[_ackCount++] = frame.Seq;
                break;
            case ServerFrameView.AckResultField:
                _traffic.UnknownAcks += frame.UnknownSeqs;
                break;
            default:
                break;
        }
    }

    /// <summary>Moves the held receipt seqs into this pass's Ack; <paramref name="company"/>: the pass writes something else anyway.</summary>
    private void ReleaseHeldReceipts(bool company)
    {
        if (_heldCount == 0)
        {
            return;
        }
        while (_ackCount + _heldCount > _acks.Length)
        {
            Array.Resize(ref _acks, _acks.Length * 2);
        }
        _heldReceipts.AsSpan(0, _heldCount).CopyTo(_acks.AsSpan(_ackCount));
        _ackCount += _heldCount;
        if (company)
        {
            _traffic.ReceiptAcksRode += _heldCount;
        }
        else
        {
            _traffic.ReceiptAcksAlone += _heldCount;
        }
        _heldCount = 0;
        HeldSinceMs = -1;
    }

    private void WriteAcks()
    {
        for (int from = 0; from < _ackCount; from += WireLimits.MaxIdsPerFrame)
        {
            var seqs = _acks.AsSpan(from, Math.Min(_ackCount - from, WireLimits.MaxIdsPerFrame));
            ulong requestId = _ackRequests ? ++_requestId : 0;
            int length = ClientFrameEncoding.AckLength(requestId, seqs);
            ClientFrameEncoding.WriteAck(BeginFrame(WebSocketFraming.Binary, length), requestId, seqs);
            EndFrame(length);
            _traffic.AckFrames++;
            _traffic.AckedSeqs += seqs.Length;
        }
        _ackCount = 0;
    }

    private void WriteGroupSend(SendGroupMessage send)
    {
        ulong requestId = ++_requestId;
        var frame = new ClientFrame { RequestId = requestId, SendGroup = send };
        int length = frame.CalculateSize();
        frame.WriteTo(BeginFrame(WebSocketFraming.Binary, length));
        EndFrame(length);
        // The body starts with the Stopwatch timestamp of the send (see GroupFanoutScenario).
        _inFlight[requestId] = BinaryPrimitives.ReadInt64LittleEndian(send.Body.Span);
        _traffic.InFlight++;
    }

    private void WriteSend(byte[] address, long nowMs, long timestamp)
    {
        // A UUIDv7-shaped id that is unique per sender device: ms timestamp, then a counter.
        BinaryPrimitives.WriteInt64BigEndian(_messageId, nowMs << 16);
        BinaryPrimitives.WriteUInt64BigEndian(_messageId.AsSpan(8), ++_messageCounter);
        _messageId[6] = (byte)(0x70 | (_messageId[6] & 0x0F));
        _messageId[8] = (byte)(0x80 | (_messageId[8] & 0x3F));
        ulong requestId = ++_requestId;
        int length = ClientFrameEncoding.SendLength(requestId, nowMs, address.Length, PayloadBytes);
        ClientFrameEncoding.WriteSend(BeginFrame(WebSocketFraming.Binary, length), requestId, _messageId, nowMs, address, _payload, timestamp);
        EndFrame(length);
        _inFlight[requestId] = timestamp;
        _traffic.InFlight++;
    }

    // A frame is written in place: header, then the caller fills the payload, then EndFrame masks it.
    private Span<byte> BeginFrame(int opcode, int payloadLength)
    {
        int needed = WebSocketFraming.ClientHeaderSize(payloadLength) + payloadLength;
        if (_output.Length - _outputEnd < needed)
        {
            int pending = _outputEnd - _outputStart;
            if (_outputStart > 0 && _output.Length - pending >= needed)
            {
                _output.AsSpan(_outputStart, pending).CopyTo(_output);
            }
            else
            {
                var bigger = new byte[Math.Max(_output.Length * 2, pending + needed)];
                _output.AsSpan(_outputStart, pending).CopyTo(bigger);
                _output = bigger;
            }
            _outputStart = 0;
            _outputEnd = pending;
        }
        int header = WebSocketFraming.WriteClientHeader(_output.AsSpan(_outputEnd), opcode, payloadLength, _mask);
        _framePayloadAt = _outputEnd + header;
        return _output.AsSpan(_framePayloadAt, payloadLength);
    }

    private void EndFrame(int payloadLength)
    {
        WebSocketFraming.Mask(_output.AsSpan(_framePayloadAt, payloadLength), _mask);
        _outputEnd = _framePayloadAt + payloadLength;
    }

    private void WriteOut()
    {
        int pending = _outputEnd - _outputStart;
        if (pending > 0)
        {
            nint n;
            fixed (byte* p = _output)
            {
                n = Libc.Send(Fd, p + _outputStart, (nuint)pending, Libc.MsgNoSignal);
            }
            if (n >= 0)
            {
                _outputStart += (int)n;
            }
            else
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EAgain && errno != Libc.EIntr)
                {
                    Closed($"send failed: errno {errno}");
                    return;
                }
            }
            if (_outputStart == _outputEnd)
            {
                _outputStart = _outputEnd = 0;
            }
        }
        bool waiting = _outputEnd > _outputStart;
        if (waiting != _waitingToWrite && _epoll >= 0)
        {
            Libc.EpollControl(_epoll, Libc.EpollCtlMod, Fd, Libc.EpollIn | Libc.EpollRdHup | (waiting ? Libc.EpollOut : 0), _token);
            _waitingToWrite = waiting;
        }
    }

    private void Closed(string why)
    {
        if (IsClosed)
        {
            return;
        }
        IsClosed = true;
        _traffic.ConnectionClosed(why);
        if (_epoll >= 0)
        {
            Libc.EpollControl(_epoll, Libc.EpollCtlDel, Fd, 0, _token);
        }
    }

    private void Upgrade(Uri server)
    {
        var (key, request) = UpgradeHandshake.NewRequest(server);
        _socket.Send(request);

        int end;
        while ((end = _carry.AsSpan(0, _carryLength).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_carryLength == _carry.Length)
            {
                throw new IOException("upgrade response headers too long");
            }
            ReceiveBlocking();
        }
        var head = Encoding.ASCII.GetString(_carry, 0, end);
        UpgradeHandshake.CheckResponse(head, key);
        // Bytes after the headers are already WebSocket frames: they stay in the carry.
        int rest = _carryLength - end - 4;
        _carry.AsSpan(end + 4, rest).CopyTo(_carry);
        _carryLength = rest;
    }

    /// <summary>Hello → Welcome, then the (empty) stored queue up to QueueEmpty; blocking.</summary>
    private void Hello()
    {
        var hello = new ClientFrame
        {
            RequestId = ++_requestId,
            Hello = new Hello { User = Device.User, DeviceId = Device.DeviceId, Password = Device.Password, Client = "parley-bench" },
        };
        hello.Hello.ProtocolVersions.Add(ProtocolVersion.Current);
        var bytes = hello.ToByteArray();
        bytes.CopyTo(BeginFrame(WebSocketFraming.Binary, bytes.Length));
        EndFrame(bytes.Length);
        _socket.Send(_output.AsSpan(_outputStart, _outputEnd - _outputStart));
        _outputStart = _outputEnd = 0;

        bool welcomed = false;
        while (true)
        {
            var frame = ReadFrameBlocking();
            if (frame is null)
            {
                continue; // a control frame
            }
            switch (frame.BodyCase)
            {
                case ServerFrame.BodyOneofCase.Welcome:
                    welcomed = true;
                    break;
                case ServerFrame.BodyOneofCase.QueueEmpty when welcomed:
                    return;
                case ServerFrame.BodyOneofCase.Envelope when welcomed:
                    // Left over from an earlier run against the same server: ack it with the first pass.
                    _acks[_ackCount++] = frame.Envelope.Seq;
                    if (_ackCount == _acks.Length)
                    {
                        Array.Resize(ref _acks, _acks.Length * 2);
                    }
                    break;
                case ServerFrame.BodyOneofCase.Error when frame.Error.Code == ErrorCode.Unavailable:
                    throw new ServerFullException("Error UNAVAILABLE at Hello");
                case ServerFrame.BodyOneofCase.Error:
                    throw new IOException($"Hello refused: {frame.Error.Code} {frame.Error.Message}");
                case ServerFrame.BodyOneofCase.Welcome or ServerFrame.BodyOneofCase.QueueEmpty or ServerFrame.BodyOneofCase.Envelope:
                    throw new IOException($"{frame.BodyCase} out of order while connecting");
                default:
                    break; // other pushes (e.g. PreKeysLow: the bench uploads no prekeys) do not matter here
            }
        }
    }

    /// <summary>The next ServerFrame from the carry (receiving as needed), or null after a control frame; throws on close.</summary>
    private ServerFrame? ReadFrameBlocking()
    {
        while (true)
        {
            if (WebSocketFraming.TryReadServerHeader(_carry.AsSpan(0, _carryLength), MaxServerPayload, out bool fin, out int opcode, out int header, out int length)
                && _carryLength >= header + length)
            {
                var payload = _carry.AsSpan(header, length);
                ServerFrame? frame = null;
                if (opcode == WebSocketFraming.Close)
                {
                    int code = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                    throw code == 1013 ? new ServerFullException("close 1013 at Hello") : new IOException($"closed at Hello: {code}");
                }
                if (opcode == WebSocketFraming.Binary && fin)
                {
                    frame = ServerFrame.Parser.ParseFrom(payload);
                }
                else if (opcode != WebSocketFraming.Ping && opcode != WebSocketFraming.Pong)
                {
                    throw new IOException($"unexpected WebSocket frame (opcode {opcode}, fin {fin}) while connecting");
                }
                int rest = _carryLength - header - length;
                _carry.AsSpan(header + length, rest).CopyTo(_carry);
                _carryLength = rest;
                return frame;
            }
            if (_carryLength == _carry.Length)
            {
                Array.Resize(ref _carry, _carry.Length * 2);
            }
            ReceiveBlocking();
        }
    }

    private void ReceiveBlocking()
    {
        int n = _socket.Receive(_carry.AsSpan(_carryLength));
        if (n == 0)
        {
            throw new IOException("connection closed while connecting");
        }
        _carryLength += n;
    }
}
