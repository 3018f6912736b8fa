using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>
/// A WebSocket client at the byte level: it upgrades by hand and writes exactly the RFC 6455
/// frames a test builds (fragmented, unmasked, lying about their length...), and reads the
/// server's frames raw, so the server's framing can be tested, not a client library's.
/// </summary>
public sealed class FramingClient : IAsyncDisposable
{
    public const byte Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private FramingClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<FramingClient> OpenAsync(RunningServer server)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
        var client = new FramingClient(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET {RegistrationApi.WebSocket} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            head.Append((char)await client.ReadByteAsync());
        }
        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return client;
    }

    /// <summary>One frame's bytes: FIN flag, opcode, masked (as clients must) unless told otherwise.</summary>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, byte reserved = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | reserved | opcode) };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (payload.Length < 126)
        {
            frame.Add((byte)(maskBit | payload.Length));
        }
        else
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        byte[] mask = masked ? RandomNumberGenerator.GetBytes(4) : [0, 0, 0, 0];
        if (masked)
        {
            frame.AddRange(mask);
        }
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ mask[i % 4]));
        }
        return [.. frame];
    }

    public static byte[] Message(ClientFrame frame) => Frame(Binary, frame.ToByteArray());

    /// <summary>Writes the bytes in one go (the server may see them in one read).</summary>
    public async Task WriteAsync(params byte[][] pieces)
    {
        await _stream.WriteAsync(pieces.SelectMany(p => p).ToArray());
    }

    /// <summary>The server's next frame: opcode and payload (server frames are never masked).</summary>
    public async Task<(byte Opcode, byte[] Payload)> ReadFrameAsync()
    {
        byte b0 = await ReadByteAsync(), b1 = await ReadByteAsync();
        Assert.Equal(0, b1 & 0x80);
        long length = b1 & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2));
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8));
        }
        return ((byte)(b0 & 0x0F), await ReadExactlyAsync((int)length));
    }

    /// <summary>The next protobuf message frame, skipping nothing.</summary>
    public async Task<ServerFrame> ReadMessageAsync()
    {
        var (opcode, payload) = await ReadFrameAsync();
        Assert.Equal(Binary, opcode);
        return ServerFrame.Parser.ParseFrom(payload);
    }

    /// <summary>Reads frames until the server's close frame; its status code and the frames before it.</summary>
    public async Task<(int Status, List<(byte Opcode, byte[] Payload)> Before)> ReadUntilCloseAsync()
    {
        var before = new List<(byte, byte[])>();
        while (true)
        {
            var (opcode, payload) = await ReadFrameAsync();
            if (opcode == Close)
            {
                return (BinaryPrimitives.ReadUInt16BigEndian(payload), before);
            }
            before.Add((opcode, payload));
        }
    }

    /// <summary>True when the server has closed the TCP connection (end of stream).</summary>
    public async Task<bool> EndsAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var one = new byte[1];
        return await _stream.ReadAsync(one, timeout.Token) == 0;
    }

    private async Task<byte> ReadByteAsync() => (await ReadExactlyAsync(1))[0];

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, timeout.Token);
        return buffer;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
