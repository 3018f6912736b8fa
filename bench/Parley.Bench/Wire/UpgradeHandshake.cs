using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;

namespace Parley.Bench.Wire;

/// <summary>The client half of the HTTP/1.1 WebSocket upgrade, shared by both bench drivers.</summary>
internal static class UpgradeHandshake
{
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>A fresh Sec-WebSocket-Key and the request bytes carrying it.</summary>
    public static (string Key, byte[] Request) NewRequest(Uri server)
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        var key = Convert.ToBase64String(nonce);
        var request = $"GET {RegistrationApi.WebSocket} HTTP/1.1\r\nHost: {server.Host}:{server.Port}\r\n" +
                      $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        return (key, Encoding.ASCII.GetBytes(request));
    }

    /// <summary>
    /// Checks the response headers (without the blank line). Throws <see cref="ServerFullException"/>
    /// on 503 and <see cref="IOException"/> on any other refusal or a wrong Sec-WebSocket-Accept.
    /// </summary>
    public static void CheckResponse(string head, string key)
    {
        var statusLine = head.AsSpan(0, head.IndexOf('\r', StringComparison.Ordinal) is var i and >= 0 ? i : head.Length);
        if (statusLine.Contains(" 503", StringComparison.Ordinal))
        {
            throw new ServerFullException("HTTP 503 at upgrade");
        }
        if (!statusLine.Contains(" 101", StringComparison.Ordinal))
        {
            throw new IOException($"upgrade refused: {statusLine}");
        }
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake; it protects nothing secret
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
#pragma warning restore CA5350
        if (!head.Contains("Sec-WebSocket-Accept: " + expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException("bad Sec-WebSocket-Accept");
        }
    }
}
