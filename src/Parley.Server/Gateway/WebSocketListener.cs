using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>
/// Takes WebSocket upgrades to /v1/ws straight off Kestrel's transport, before the HTTP layer:
/// it answers the RFC 6455 handshake itself and runs the WebSocket on the raw connection pipe.
/// Why: an upgraded request kept inside ASP.NET holds its whole HTTP machinery (connection,
/// headers, context, streams: about 5 KB) for the life of the socket; here a connection costs
/// only the transport and the WebSocket. Every other request goes on to ASP.NET untouched.
/// </summary>
public sealed class WebSocketListener(WebSocketGateway gateway)
{
    /// <summary>A handshake larger than this is refused: browsers send well under 2 KB.</summary>
    private const int MaxHandshakeBytes = 8 * 1024;

    private static readonly byte[] RoutePrefix = Encoding.ASCII.GetBytes("GET " + RegistrationApi.WebSocket);
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>Kestrel connection middleware: <c>listenOptions.Use(next => ctx => listener.OnConnectionAsync(ctx, next))</c>.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        ReadResult read;
        while (true)
        {
            read = await input.ReadAsync(connection.ConnectionClosed);
            var buffer = read.Buffer;
            if (buffer.Length < RoutePrefix.Length + 1 && !read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            if (!IsWebSocketRoute(buffer))
            {
                input.AdvanceTo(buffer.Start); // nothing consumed: ASP.NET reads the same bytes
                await next(connection);
                return;
            }
            var end = Find(buffer, HeaderEnd);
            if (end is null)
            {
                if (read.IsCompleted || buffer.Length > MaxHandshakeBytes)
                {
                    await RespondAsync(connection, "431 Request Header Fields Too Large");
                    return;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            var head = Encoding.ASCII.GetString(buffer.Slice(0, end.Value).ToArray());
            input.AdvanceTo(buffer.GetPosition(end.Value + HeaderEnd.Length));
            if (AcceptKey(head) is not { } accept)
            {
                await RespondAsync(connection, "400 Bad Request");
                return;
            }
            var response = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(response), connection.ConnectionClosed);
            break;
        }

        var socket = new PipeWebSocket(connection.Transport, connection.Abort, WireLimits.MaxFrameBytes);
        try
        {
            await gateway.ServeAsync(socket, connection.RemoteEndPoint?.ToString() ?? "?");
        }
        finally
        {
            socket.Complete();
        }
    }

    private static bool IsWebSocketRoute(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.IsNext(RoutePrefix, advancePast: true) || !reader.TryPeek(out var after))
        {
            return false;
        }
        return after is (byte)' ' or (byte)'?';
    }

    /// <summary>The Sec-WebSocket-Accept value for a valid upgrade request, or null.</summary>
    internal static string? AcceptKey(string head)
    {
        string? key = null;
        bool upgrade = false, connectionUpgrade = false, version13 = false;
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = value.Equals("websocket", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connectionUpgrade = value.Split(',').Any(v => v.Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase));
            }
            else if (name.Equals("Sec-WebSocket-Version", StringComparison.OrdinalIgnoreCase))
            {
                version13 = value == "13";
            }
            else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                key = value;
            }
        }
        if (!upgrade || !connectionUpgrade || !version13 || key is null || key.Length != 24)
        {
            return null;
        }
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake; it protects nothing secret
        return Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    }

    private static long? Find(ReadOnlySequence<byte> buffer, byte[] needle)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> before, needle, advancePastDelimiter: false) ? before.Length : null;
    }

    private static async Task RespondAsync(ConnectionContext connection, string status)
    {
        var response = $"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(response));
        await connection.Transport.Output.CompleteAsync();
    }
}
