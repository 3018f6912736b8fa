using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Server.Gateway;

namespace Parley.Server.Tests;

public sealed class HandshakeTests
{
    [Fact]
    public void The_accept_key_is_the_one_RFC_6455_gives_for_its_sample_key()
    {
        var head = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13";
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketListener.AcceptKey(head));
        Assert.Null(WebSocketListener.AcceptKey(head.Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")));
        Assert.Null(WebSocketListener.AcceptKey(head.Replace("Upgrade: websocket", "Upgrade: h2c")));
    }

    private static async Task<string> RawHttpAsync(ServerFixture fx, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fx.Server.BaseUri.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        int n = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    [Fact]
    public async Task A_plain_GET_of_the_WebSocket_path_is_a_400_and_other_paths_still_reach_the_HTTP_API()
    {
        await using var fx = await ServerFixture.StartAsync();
        var plain = await RawHttpAsync(fx, "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400", plain);
        var health = await RawHttpAsync(fx, "GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", health);
        Assert.Contains("\"ok\"", health);
    }

    [Fact]
    public async Task An_endless_handshake_is_refused_with_431()
    {
        await using var fx = await ServerFixture.StartAsync();
        var huge = "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + new string('a', 10_000) + "\r\n";
        Assert.StartsWith("HTTP/1.1 431", await RawHttpAsync(fx, huge));
    }

    [Fact]
    public async Task A_whole_handshake_over_8_KiB_is_refused_with_431_although_it_came_in_one_piece()
    {
        await using var fx = await ServerFixture.StartAsync();
        var huge = "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Padding: " + new string('a', 9_000) + "\r\n\r\n";
        Assert.StartsWith("HTTP/1.1 431", await RawHttpAsync(fx, huge));
    }
}
