using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>
/// Takes WebSocket upgrades to /v1/ws straight off Kestrel's transport, before the HTTP layer:
/// it answers the RFC 6455 handshake itself and runs the WebSocket on the raw connection pipe.
/// Why: an upgraded request kept inside ASP.NET holds its whole HTTP machinery (connection,
/// headers, context, streams: about 5 KB) for the life of the socket; here a connection costs
/// only the transport and the WebSocket. Every other request goes on to ASP.NET untouched.
/// </summary>
public sealed class WebSocketListener(WebSocketGateway gateway, TrustedProxies proxies, IOptions<ParleyOptions> options)
{
    /// <summary>Past the Hello timeout, the gateway's own close (error frame, close handshake) gets this long before the socket is aborted.</summary>
    private static readonly TimeSpan HelloCloseGrace = TimeSpan.FromSeconds(3);

    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly bool _standardFraming = options.Value.StandardWebSockets;

    /// <summary>A handshake larger than this is refused: browsers send well under 2 KB.</summary>
    private const int MaxHandshakeBytes = 8 * 1024;

    private static readonly byte[] RoutePrefix = Encoding.ASCII.GetBytes("GET " + RegistrationApi.WebSocket);
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>Kestrel connection middleware: <c>listenOptions.Use(next => ctx => listener.OnConnectionAsync(ctx, next))</c>.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // Set by AdmissionGate, which runs in front of TLS: it counts this socket and aborts it at its deadline.
        var admission = connection.Features.Get<Admission>();
        string? head;
        try
        {
            head = await ReadUpgradeRequestAsync(connection, next, admission);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return; // aborted at its deadline, or the peer went away mid-request
        }
        if (head is null)
        {
            return;
        }
        if (AcceptKey(head) is not { } accept)
        {
            await RespondAsync(connection, "400 Bad Request");
            return;
        }
        var client = ClientAddress(connection, head);
        var helloDeadline = TimeSpan.FromSeconds(_limits.HelloTimeoutSeconds) + HelloCloseGrace;
        if (admission is not null && !admission.UpgradeReceived(client, helloDeadline))
        {
            await RespondAsync(connection, "429 Too Many Requests");
            return;
        }
        var response = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(response), connection.ConnectionClosed);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return;
        }

        var socket = new PipeWebSocket(connection.Transport, connection.Abort, WireLimits.MaxFrameBytes, _standardFraming);
        try
        {
            await gateway.ServeAsync(socket, client.ToString(), admission);
        }
        finally
        {
            socket.Complete();
        }
    }

    /// <summary>
    /// Reads up to the end of a /v1/ws upgrade request and returns its head; hands any other
    /// request to ASP.NET (nothing consumed) and returns null, as it does after refusing one.
    /// </summary>
    private static async Task<string?> ReadUpgradeRequestAsync(ConnectionContext connection, ConnectionDelegate next, Admission? admission)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var read = await input.ReadAsync(connection.ConnectionClosed);
            var buffer = read.Buffer;
            if (buffer.Length < RoutePrefix.Length + 1 && !read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            if (!IsWebSocketRoute(buffer))
            {
                input.AdvanceTo(buffer.Start); // nothing consumed: ASP.NET reads the same bytes
                admission?.HandedToHttp();
                await next(connection);
                return null;
            }
            var end = Find(buffer, HeaderEnd);
            // Too large whether or not its end came in the same read (one read can hold far more).
            if (end is null || end.Value > MaxHandshakeBytes)
            {
                if (end is not null || read.IsCompleted || buffer.Length > MaxHandshakeBytes)
                {
                    await RespondAsync(connection, "431 Request Header Fields Too Large");
                    return null;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            var head = Encoding.ASCII.GetString(buffer.Slice(0, end.Value).ToArray());
            input.AdvanceTo(buffer.GetPosition(end.Value + HeaderEnd.Length));
            return head;
        }
    }

    /// <summary>The client's address: the socket's peer, or behind a trusted proxy the one its X-Forwarded-For names.</summary>
    private IPAddress ClientAddress(ConnectionContext connection, string head)
    {
        var remote = connection.RemoteEndPoint is IPEndPoint ip ? ip.Address : IPAddress.None;
        return proxies.ClientAddress(remote, Header(head, "X-Forwarded-For"));
    }

    /// <summary>The value of a header of the request head (all its lines joined by commas, as RFC 9110 allows), or null.</summary>
    internal static string? Header(string head, string name)
    {
        string? value = null;
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                var part = line[(colon + 1)..].Trim();
                value = value is null ? part : value + "," + part;
            }
        }
        return value;
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
        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(response), connection.ConnectionClosed);
            await connection.Transport.Output.CompleteAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The peer is gone: nothing to tell it.
        }
    }
}
