using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Fuzz.Targets;

/// <summary>
/// A client on the far end of in-memory pipes into the real <see cref="WebSocketGateway"/>, as
/// the WebSocket listener would hand it a connection (no TCP: the fuzzer pays for the gateway,
/// not the kernel). Writes masked client frames; reads the server's frames.
/// </summary>
public sealed class GatewayConnection
{
    private readonly Pipe _fromClient = new();
    private readonly Pipe _toClient = new();
    private readonly PipeWebSocket _socket;
    private bool _writerDone;

    private GatewayConnection(WebSocketGateway gateway)
    {
        _socket = new PipeWebSocket(new Duplex(_fromClient.Reader, _toClient.Writer), Abort, WireLimits.MaxFrameBytes);
        Serving = Task.Run(async () =>
        {
            try
            {
                await gateway.ServeAsync(_socket, "fuzz");
            }
            finally
            {
                _socket.Complete();
            }
        });
    }

    /// <summary>The gateway serving this connection; ends when the gateway lets the connection go.</summary>
    public Task Serving { get; }

    public static GatewayConnection Open(WebSocketGateway gateway) => new(gateway);

    /// <summary>Writes one masked binary frame carrying <paramref name="payload"/>.</summary>
    public ValueTask<FlushResult> WriteMessageAsync(ReadOnlySpan<byte> payload)
    {
        var writer = _fromClient.Writer;
        int lengthBytes = payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        var span = writer.GetSpan(2 + lengthBytes + 4 + payload.Length);
        span[0] = 0x82;
        if (lengthBytes == 0)
        {
            span[1] = (byte)(0x80 | payload.Length);
        }
        else if (lengthBytes == 2)
        {
            span[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)payload.Length);
        }
        else
        {
            span[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)payload.Length);
        }
        int at = 2 + lengthBytes;
        ReadOnlySpan<byte> mask = [0x5A, 0x13, 0xC7, 0x09];
        mask.CopyTo(span[at..]);
        at += 4;
        for (int i = 0; i < payload.Length; i++)
        {
            span[at + i] = (byte)(payload[i] ^ mask[i & 3]);
        }
        writer.Advance(at + payload.Length);
        return writer.FlushAsync();
    }

    public ValueTask<FlushResult> WriteAsync(ClientFrame frame) => WriteMessageAsync(frame.ToByteArray());

    /// <summary>Says goodbye from the client side: the gateway's next read sees the end of the stream.</summary>
    public async Task EndAsync()
    {
        if (!_writerDone)
        {
            _writerDone = true;
            await _fromClient.Writer.CompleteAsync();
        }
    }

    /// <summary>The server's next frame (opcode and payload), or null once the server has closed the stream.</summary>
    public async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync(CancellationToken token)
    {
        var reader = _toClient.Reader;
        while (true)
        {
            var read = await reader.ReadAsync(token);
            var buffer = read.Buffer;
            if (TryTake(ref buffer, out var frame))
            {
                reader.AdvanceTo(buffer.Start);
                return frame;
            }
            if (read.IsCompleted || read.IsCanceled)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool TryTake(ref ReadOnlySequence<byte> buffer, out (int Opcode, byte[] Payload) frame)
    {
        frame = default;
        if (buffer.Length < 2)
        {
            return false;
        }
        Span<byte> head = stackalloc byte[10];
        buffer.Slice(0, Math.Min(10, buffer.Length)).CopyTo(head);
        if ((head[1] & 0x80) != 0)
        {
            throw new InvalidDataException("the server masked a frame");
        }
        int lengthBytes = (head[1] & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 };
        if (buffer.Length < 2 + lengthBytes)
        {
            return false;
        }
        long length = lengthBytes switch
        {
            0 => head[1] & 0x7F,
            2 => BinaryPrimitives.ReadUInt16BigEndian(head[2..]),
            _ => (long)BinaryPrimitives.ReadUInt64BigEndian(head[2..]),
        };
        if (buffer.Length < 2 + lengthBytes + length)
        {
            return false;
        }
        frame = (head[0] & 0x0F, buffer.Slice(2 + lengthBytes, length).ToArray());
        buffer = buffer.Slice(2 + lengthBytes + length);
        return true;
    }

    private void Abort()
    {
        _fromClient.Reader.CancelPendingRead();
        _toClient.Reader.CancelPendingRead();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
