using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Server.Tests;

/// <summary>Sockets before Hello: counted per address and in all, dropped at their deadlines; sends that stall are aborted.</summary>
public sealed class AdmissionTests
{
    private const string Upgrade = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    [Fact]
    public async Task Sockets_beyond_the_per_address_cap_are_dropped_at_accept_while_other_addresses_get_in()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxUnauthenticatedPerAddress = 3);
        var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
        var from = IPAddress.Parse("127.0.0.5");
        var held = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                held.Add(await ConnectAsync(fx, from));
            }
            await Wait.UntilAsync(() => sockets.From(from) == 3);

            // The server may reset the fourth before the client's connect completes: dropped all the same.
            TcpClient? fourth = null;
            try
            {
                fourth = await ConnectAsync(fx, from);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
            }
            using var dropped = fourth;
            Assert.True(fourth is null || await EndsAsync(fourth), "the fourth silent socket from the same address is dropped");
            Assert.Equal(1, sockets.Refused);
            Assert.All(held, c => Assert.False(c.Client.Poll(0, SelectMode.SelectRead), "the first three are still open"));

            // Another address is not affected: it reaches the HTTP API.
            Assert.StartsWith("HTTP/1.1 200", await RequestAsync(fx, IPAddress.Parse("127.0.0.6"), "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"));
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_socket_that_never_completes_its_upgrade_request_is_dropped_at_the_deadline()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.UpgradeTimeoutSeconds = 10, clock);
        var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
        using var silent = await ConnectAsync(fx, IPAddress.Loopback);
        using var slow = await ConnectAsync(fx, IPAddress.Loopback);
        await slow.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /v1/ws HTTP/1.1\r\nHost: x\r\n")); // and never the rest
        await Wait.UntilAsync(() => sockets.Current == 2);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(silent.Client.Poll(0, SelectMode.SelectRead), "still open before the deadline");

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await EndsAsync(silent));
        Assert.True(await EndsAsync(slow));
        await Wait.UntilAsync(() => sockets.Current == 0);
        Assert.Equal(2, sockets.TimedOut);
    }

    [Fact]
    public async Task An_upgraded_socket_without_Hello_is_closed_and_stops_counting()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.HelloTimeoutSeconds = 10, clock);
        var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
        using var client = await ConnectAsync(fx, IPAddress.Loopback);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Upgrade + "\r\n"));
        Assert.StartsWith("HTTP/1.1 101", await ReadSomeAsync(stream));
        Assert.Equal(1, sockets.Current);

        // The gateway closes it (1008, "no Hello in time"). Its deadline starts when it begins to wait
        // for Hello, a moment after the 101 went out, so a single move of the clock could come first
        // and pass unseen: the clock moves on until the socket ends.
        using var done = new CancellationTokenSource();
        var ticking = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                clock.Advance(TimeSpan.FromSeconds(11));
                await Task.Delay(200, CancellationToken.None);
            }
        });
        Assert.True(await EndsAsync(client));
        await done.CancelAsync();
        await ticking;
        await Wait.UntilAsync(() => sockets.Current == 0);
    }

    [Fact]
    public async Task An_authenticated_device_no_longer_counts_as_unauthenticated()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxUnauthenticatedPerAddress = 2);
        var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
        var credentials = await RawClient.RegisterAsync(fx.Server, "alice");
        var devices = new List<RawClient>();
        try
        {
            // Three devices' worth of connections from one address with a cap of two: each
            // leaves the count once it said Hello.
            for (int i = 0; i < 3; i++)
            {
                devices.Add(await RawClient.ConnectAsync(fx.Server, i == 0 ? credentials : await RawClient.LinkAsync(fx.Server, credentials)));
            }
            await Wait.UntilAsync(() => sockets.Current == 0);
        }
        finally
        {
            foreach (var device in devices)
            {
                await device.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_forwarded_address_is_counted_and_elsewhere_the_header_is_ignored()
    {
        await using (var fx = await ServerFixture.StartAsync(o =>
        {
            o.TrustedProxies = ["127.0.0.1"];
            o.Limits.MaxUnauthenticatedPerAddress = 1;
        }))
        {
            var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
            using var first = await UpgradeAsync(fx, "203.0.113.7");
            Assert.Equal(1, sockets.From(IPAddress.Parse("203.0.113.7")));
            Assert.Equal(0, sockets.From(IPAddress.Loopback)); // the proxy itself is not capped
            using var second = await UpgradeAsync(fx, "198.51.100.1, 203.0.113.7"); // the nearest hop is believed
            Assert.StartsWith("HTTP/1.1 429", second.Answer);
            using var other = await UpgradeAsync(fx, "203.0.113.8");
            Assert.StartsWith("HTTP/1.1 101", other.Answer);
        }

        await using (var fx = await ServerFixture.StartAsync(o => o.Limits.MaxUnauthenticatedPerAddress = 1))
        {
            var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
            using var forged = await UpgradeAsync(fx, "203.0.113.7");
            Assert.StartsWith("HTTP/1.1 101", forged.Answer);
            Assert.Equal(0, sockets.From(IPAddress.Parse("203.0.113.7")));
            Assert.Equal(1, sockets.From(IPAddress.Loopback));
        }
    }

    [Fact]
    public async Task Forwarded_IPv6_clients_are_counted_by_their_64_bit_prefix()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.TrustedProxies = ["127.0.0.1"];
            o.Limits.MaxUnauthenticatedPerAddress = 1;
        });
        var sockets = fx.Server.App.Services.GetRequiredService<UnauthenticatedSockets>();
        using var first = await UpgradeAsync(fx, "2001:db8:1:2::1");
        Assert.StartsWith("HTTP/1.1 101", first.Answer);
        Assert.Equal(1, sockets.From(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        // Another address of the same /64 is the same client.
        using var same = await UpgradeAsync(fx, "2001:db8:1:2:abcd:ef01:2345:6789");
        Assert.StartsWith("HTTP/1.1 429", same.Answer);
        using var next = await UpgradeAsync(fx, "2001:db8:1:3::1");
        Assert.StartsWith("HTTP/1.1 101", next.Answer);
    }

    [Fact]
    public async Task A_device_that_stops_reading_is_aborted_after_the_send_timeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Limits.SendTimeoutSeconds = 30;
            o.Limits.MaxInFlightBytes = 64 * 1024 * 1024; // let the envelopes pile up in the socket, not in the budget
        }, clock);
        var registry = fx.Server.App.Services.GetRequiredService<ConnectionRegistry>();
        var aliceCredentials = await RawClient.RegisterAsync(fx.Server, "alice");
        var bobCredentials = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var bob = await RawClient.ConnectAsync(fx.Server, bobCredentials); // and never reads again
        await using var alice = await RawClient.ConnectAsync(fx.Server, aliceCredentials);
        var bobConnection = registry.Connections.Single(c => c.Account.User == "bob");

        // Far more than the kernel's socket buffers hold: the server's writes to bob must wait.
        var text = new string('x', WireLimits.MaxPayloadBytes - 1024);
        for (int i = 0; i < 400; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await alice.RequestAsync(Wire.Send("bob", text: text))).BodyCase);
        }

        await Wait.UntilAsync(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(31));
            return bobConnection.SendTimedOut;
        }, timeoutMs: 30_000);
        await Wait.UntilAsync(() => registry.Find(bobConnection.DeviceKey) is null);
    }

    private static async Task<TcpClient> ConnectAsync(ServerFixture fx, IPAddress from)
    {
        var client = new TcpClient(new IPEndPoint(from, 0));
        await client.ConnectAsync(IPAddress.Loopback, fx.Server.BaseUri.Port);
        return client;
    }

    private static async Task<string> RequestAsync(ServerFixture fx, IPAddress from, string request)
    {
        using var client = await ConnectAsync(fx, from);
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
        return await ReadSomeAsync(client.GetStream());
    }

    private sealed record Upgraded(TcpClient Client, string Answer) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    private static async Task<Upgraded> UpgradeAsync(ServerFixture fx, string forwardedFor)
    {
        var client = await ConnectAsync(fx, IPAddress.Loopback);
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Upgrade + $"X-Forwarded-For: {forwardedFor}\r\n\r\n"));
        return new Upgraded(client, await ReadSomeAsync(client.GetStream()));
    }

    private static async Task<string> ReadSomeAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n = await stream.ReadAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    // True once the server has closed (or reset) the connection; reads and drops anything it sent first.
    private static async Task<bool> EndsAsync(TcpClient client)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (await client.GetStream().ReadAsync(buffer, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
