using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>
/// The server side of RFC 6455 straight on a connection's pipes. Why not System.Net.WebSockets:
/// its API writes and flushes one message per call through a Stream adapter, so every frame costs
/// its own send syscall; here frames are serialized straight into the output pipe and a whole
/// batch goes out with one flush, and inbound messages already buffered are handed out without
/// another read. One reader (the receive loop) and one writer (the send loop) at a time.
/// </summary>
public sealed class PipeWebSocket(IDuplexPipe transport, Action abort, int maxMessageBytes, bool standard = false)
{
    private const byte FinBit = 0x80, ReservedBits = 0x70, MaskBit = 0x80;
    private const byte ContinuationOp = 0x0, TextOp = 0x1, BinaryOp = 0x2, CloseOp = 0x8, PingOp = 0x9, PongOp = 0xA;
    private const int MaxControlPayload = 125;
    private const int MaxHeaderBytes = 14; // 2 + 8 (length) + 4 (mask)

    // Set only for the benchmark comparison (Parley:StandardWebSockets): every call goes to it.
    private readonly StandardFraming? _standard = standard ? new StandardFraming(transport, maxMessageBytes) : null;
    private readonly PipeReader _input = transport.Input;
    private readonly PipeWriter _output = transport.Output;

    // Receive state: the part of the pipe's buffer not yet parsed, and the message being assembled.
    private ReadOnlySequence<byte> _buffer;
    private bool _holding;
    private bool _ended;
    private byte[]? _message;
    private int _messageLength;
    private bool _fragmented;
    private byte[]? _control;

    /// <summary>
    /// The next inbound message or control frame. Frames already buffered are returned without
    /// waiting, so a burst read in one go is handled in one go. Never throws for the peer's doing.
    /// </summary>
    public ValueTask<InboundFrame> ReadAsync(CancellationToken token) =>
        _standard is not null ? _standard.ReadAsync(token)
        : _holding && TryParse(out var frame) ? ValueTask.FromResult(frame) : ReadMoreAsync(token);

    // Pooled: every wait for data would otherwise allocate this method's state machine.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<InboundFrame> ReadMoreAsync(CancellationToken token)
    {
        while (true)
        {
            if (_holding)
            {
                _input.AdvanceTo(_buffer.Start, _buffer.End);
                _holding = false;
            }
            if (_ended)
            {
                return new InboundFrame(InboundKind.Gone);
            }
            if (!_fragmented)
            {
                ReturnMessageBuffer(); // an idle connection holds no receive buffer
            }
            try
            {
                var read = await _input.ReadAsync(token);
                _buffer = read.Buffer;
                _holding = true;
                _ended = read.IsCompleted || read.IsCanceled;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                _ended = true;
                return new InboundFrame(InboundKind.Gone);
            }
            if (TryParse(out var frame))
            {
                return frame;
            }
        }
    }

    /// <summary>Parses the next whole frame from the held buffer; false when more bytes are needed.</summary>
    private bool TryParse(out InboundFrame frame)
    {
        while (true)
        {
            frame = default;
            if (_buffer.Length < 2)
            {
                return false;
            }
            Span<byte> head = stackalloc byte[MaxHeaderBytes];
            int available = (int)Math.Min(_buffer.Length, MaxHeaderBytes);
            _buffer.Slice(0, available).CopyTo(head);
            byte b0 = head[0], b1 = head[1];
            bool fin = (b0 & FinBit) != 0;
            int opcode = b0 & 0x0F;
            int lengthBytes = (b1 & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 };
            int headerLength = 2 + lengthBytes + 4;
            if ((b0 & ReservedBits) != 0)
            {
                return Violation(out frame, "reserved bits set without an extension");
            }
            if ((b1 & MaskBit) == 0)
            {
                return Violation(out frame, "client frames must be masked");
            }
            if (available < headerLength)
            {
                return false;
            }
            ulong length = lengthBytes switch
            {
                0 => (ulong)(b1 & 0x7F),
                2 => BinaryPrimitives.ReadUInt16BigEndian(head[2..]),
                _ => BinaryPrimitives.ReadUInt64BigEndian(head[2..]),
            };
            bool control = opcode >= CloseOp;
            if (control && (!fin || length > MaxControlPayload))
            {
                return Violation(out frame, "control frames are unfragmented and at most 125 bytes");
            }
            switch (opcode)
            {
                case TextOp:
                    frame = new InboundFrame(InboundKind.Violation, CloseStatus: CloseCodes.UnsupportedData, Reason: "frames are binary protobuf");
                    return true;
                case BinaryOp when _fragmented:
                    return Violation(out frame, "a new message started inside a fragmented one");
                case ContinuationOp when !_fragmented:
                    return Violation(out frame, "continuation without a message to continue");
                case BinaryOp or ContinuationOp or CloseOp or PingOp or PongOp:
                    break;
                default:
                    return Violation(out frame, $"unknown opcode {opcode}");
            }
            if (!control && length > (ulong)(maxMessageBytes - _messageLength))
            {
                // Refused before the payload arrives: a huge length never makes us buffer it.
                // (Compared as room left, not as a sum: a 64-bit length near 2^64 would wrap the sum.)
                frame = new InboundFrame(InboundKind.Violation, CloseStatus: CloseCodes.TooBig,
                    Reason: $"frames are at most {maxMessageBytes} bytes", Code: ErrorCode.TooLarge);
                return true;
            }
            if ((ulong)_buffer.Length < (ulong)headerLength + length)
            {
                return false;
            }
            uint mask = MemoryMarshal.Read<uint>(head.Slice(2 + lengthBytes, 4));
            var payload = _buffer.Slice(headerLength, (long)length);
            _buffer = _buffer.Slice(payload.End);

            if (control)
            {
                var body = (_control ??= new byte[MaxControlPayload]).AsSpan(0, (int)length);
                payload.CopyTo(body);
                Unmask(body, mask);
                switch (opcode)
                {
                    case PingOp:
                        frame = new InboundFrame(InboundKind.Ping, _control.AsMemory(0, (int)length));
                        return true;
                    case CloseOp:
                        return ParseClose(body, out frame);
                    default:
                        continue; // an unsolicited pong: a keep-alive, nothing to do
                }
            }

            int start = _messageLength;
            EnsureMessageRoom(start + (int)length);
            var into = _message.AsSpan(start, (int)length);
            payload.CopyTo(into);
            Unmask(into, mask);
            _messageLength += (int)length;
            if (!fin)
            {
                _fragmented = true;
                continue;
            }
            _fragmented = false;
            frame = new InboundFrame(InboundKind.Message, _message.AsMemory(0, _messageLength));
            _messageLength = 0;
            return true;
        }
    }

    private static bool ParseClose(ReadOnlySpan<byte> body, out InboundFrame frame)
    {
        if (body.Length == 1)
        {
            return Violation(out frame, "a close frame's status code is two bytes");
        }
        WebSocketCloseStatus? status = body.Length >= 2 ? (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(body) : null;
        frame = new InboundFrame(InboundKind.Close, CloseStatus: status);
        return true;
    }

    private static bool Violation(out InboundFrame frame, string reason)
    {
        frame = new InboundFrame(InboundKind.Violation, CloseStatus: WebSocketCloseStatus.ProtocolError, Reason: reason);
        return true;
    }

    private void EnsureMessageRoom(int needed)
    {
        if (_message is not null && _message.Length >= needed)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
        if (_message is not null)
        {
            _message.AsSpan(0, _messageLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_message);
        }
        _message = bigger;
    }

    private void ReturnMessageBuffer()
    {
        if (_message is not null)
        {
            ArrayPool<byte>.Shared.Return(_message);
            _message = null;
        }
    }

    /// <summary>XORs the client's 4-byte mask over the payload, 8 bytes at a time.</summary>
    private static void Unmask(Span<byte> data, uint mask)
    {
        ulong wide = mask | ((ulong)mask << 32);
        var longs = MemoryMarshal.Cast<byte, ulong>(data);
        for (int i = 0; i < longs.Length; i++)
        {
            longs[i] ^= wide;
        }
        for (int i = longs.Length * 8; i < data.Length; i++)
        {
            data[i] ^= (byte)(mask >> (8 * (i & 3)));
        }
    }

    /// <summary>Serializes <paramref name="message"/> as one binary frame into the output; it goes out at the next flush.</summary>
    public void Write(IMessage message, IFrameObserver? observer = null)
    {
        if (_standard is not null)
        {
            _standard.Write(message, observer);
            return;
        }
        int size = message.CalculateSize();
        int header = HeaderLength(size);
        var span = _output.GetSpan(header + size);
        WriteHeader(span, FinBit | BinaryOp, size);
        var body = span.Slice(header, size);
        message.WriteTo(body);
        observer?.OnFrame(inbound: false, body);
        _output.Advance(header + size);
    }

    /// <summary>
    /// Writes an already serialized message as one binary frame (a group envelope encoded once for
    /// every device it goes to); it goes out at the next flush.
    /// </summary>
    public void Write(ReadOnlySpan<byte> encoded, IFrameObserver? observer = null)
    {
        if (_standard is not null)
        {
            _standard.Write(encoded, observer);
            return;
        }
        int header = HeaderLength(encoded.Length);
        var span = _output.GetSpan(header + encoded.Length);
        WriteHeader(span, FinBit | BinaryOp, encoded.Length);
        encoded.CopyTo(span[header..]);
        observer?.OnFrame(inbound: false, span.Slice(header, encoded.Length));
        _output.Advance(header + encoded.Length);
    }

    /// <summary>Writes a pong echoing a ping's payload.</summary>
    public void WritePong(ReadOnlySpan<byte> payload)
    {
        if (_standard is not null)
        {
            return; // the library answers pings itself
        }
        var span = _output.GetSpan(2 + payload.Length);
        WriteHeader(span, FinBit | PongOp, payload.Length);
        payload.CopyTo(span[2..]);
        _output.Advance(2 + payload.Length);
    }

    /// <summary>Writes a close frame: the status and as much of the reason as fits in 123 bytes of UTF-8.</summary>
    public void WriteClose(WebSocketCloseStatus status, string reason)
    {
        if (_standard is not null)
        {
            _standard.WriteClose(status, reason);
            return;
        }
        Span<byte> body = stackalloc byte[MaxControlPayload];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)status);
        Utf8.FromUtf16(reason, body[2..], out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        var span = _output.GetSpan(2 + 2 + written);
        WriteHeader(span, FinBit | CloseOp, 2 + written);
        body[..(2 + written)].CopyTo(span[2..]);
        _output.Advance(2 + 2 + written);
    }

    /// <summary>Bytes written since the last flush.</summary>
    public long UnflushedBytes => _standard?.UnflushedBytes ?? (_output.CanGetUnflushedBytes ? _output.UnflushedBytes : 0);

    /// <summary>Sends what was written. Waits while the peer is not reading (the pipe is full); IsCompleted when it is gone.</summary>
    public ValueTask<FlushResult> FlushAsync(CancellationToken token) => _standard?.FlushAsync(token) ?? _output.FlushAsync(token);

    /// <summary>Drops the connection at once, without a close handshake.</summary>
    public void Abort() => abort();

    /// <summary>
    /// After a close of ours on bad input: reads and discards what the peer still sends, up to
    /// <paramref name="maxBytes"/>, until it closes its side, goes quiet for <paramref name="quiet"/>
    /// or the token ends. Closing with unread bytes in the socket makes the kernel answer with a
    /// reset, which can destroy our error and close frame in the peer's buffer before it reads them
    /// (the lingering close of HTTP servers). Returns false when the peer sent more than the cap,
    /// so the caller should abort.
    /// </summary>
    public async Task<bool> DrainAsync(long maxBytes, TimeSpan quiet, CancellationToken token)
    {
        if (_standard is not null)
        {
            return true; // the library owns the stream; nothing to discard by hand
        }
        long discarded = 0;
        try
        {
            while (!_ended)
            {
                if (_holding)
                {
                    discarded += _buffer.Length;
                    _input.AdvanceTo(_buffer.End);
                    _holding = false;
                }
                if (discarded > maxBytes)
                {
                    return false;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(token);
                wait.CancelAfter(quiet);
                var read = await _input.ReadAsync(wait.Token);
                _buffer = read.Buffer;
                _holding = true;
                _ended = read.IsCompleted || read.IsCanceled;
            }
            discarded += _holding ? _buffer.Length : 0;
            return discarded <= maxBytes;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return discarded <= maxBytes;
        }
    }

    /// <summary>Ends both directions; the transport then closes the TCP connection. Call once both loops are done.</summary>
    public void Complete()
    {
        _standard?.Dispose();
        if (_holding)
        {
            _input.AdvanceTo(_buffer.End);
            _holding = false;
        }
        ReturnMessageBuffer();
        _input.Complete();
        _output.Complete();
    }

    private static int HeaderLength(int payload) => payload < 126 ? 2 : payload <= ushort.MaxValue ? 4 : 10;

    private static void WriteHeader(Span<byte> span, int first, int payload)
    {
        span[0] = (byte)first;
        if (payload < 126)
        {
            span[1] = (byte)payload;
        }
        else if (payload <= ushort.MaxValue)
        {
            span[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)payload);
        }
        else
        {
            span[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)payload);
        }
    }
}
