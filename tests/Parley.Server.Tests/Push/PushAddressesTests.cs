using System.Net;
using Parley.Server.Configuration;
using Parley.Server.Push;

namespace Parley.Server.Tests.Push;

/// <summary>Which addresses a push may go to: the public internet, and more only when the operator says so.</summary>
public sealed class PushAddressesTests
{
    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.15.255.255")] // just below 172.16/12
    [InlineData("172.32.0.1")] // just above it
    [InlineData("100.63.255.255")] // just below carrier NAT
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")] // IPv4-mapped
    [InlineData("64:ff9b::808:808")] // NAT64 of 8.8.8.8
    public void Public_internet_addresses_are_public(string address) => Assert.True(PushAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")] // carrier NAT
    [InlineData("192.0.0.9")]
    [InlineData("192.0.2.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.7")]
    [InlineData("224.0.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:10.0.0.1")] // a private IPv4 address written as IPv6
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("64:ff9b::a00:1")] // NAT64 of 10.0.0.1
    public void Loopback_private_link_local_and_reserved_addresses_are_not(string address) => Assert.False(PushAddresses.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void The_settings_open_loopback_or_everything_and_nothing_else()
    {
        var loopback = IPAddress.Loopback;
        var mappedLoopback = IPAddress.Parse("::ffff:127.0.0.1");
        var privateAddress = IPAddress.Parse("10.0.0.1");
        var publicAddress = IPAddress.Parse("8.8.8.8");

        var strict = new PushAddresses(new PushOptions());
        Assert.Equal([false, false, false, true], new[] { loopback, mappedLoopback, privateAddress, publicAddress }.Select(strict.Allows));

        var loopbackHttp = new PushAddresses(new PushOptions { AllowLoopbackHttp = true });
        Assert.Equal([true, true, false, true], new[] { loopback, mappedLoopback, privateAddress, publicAddress }.Select(loopbackHttp.Allows));

        var everything = new PushAddresses(new PushOptions { AllowPrivateNetworks = true });
        Assert.Equal([true, true, true, true], new[] { loopback, mappedLoopback, privateAddress, publicAddress }.Select(everything.Allows));
    }

    [Fact]
    public async Task A_connection_to_the_push_host_is_checked_and_one_to_the_operators_proxy_is_not()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var addresses = new PushAddresses(new PushOptions());
            var loopback = new DnsEndPoint("127.0.0.1", port);

            // The push host itself on loopback: refused before any connection is made.
            await Assert.ThrowsAsync<PushAddressRefusedException>(async () =>
                await addresses.ConnectAsync(loopback, new Uri($"https://127.0.0.1:{port}/push"), CancellationToken.None));
            await Assert.ThrowsAsync<PushAddressRefusedException>(async () =>
                await addresses.ConnectAsync(new DnsEndPoint("localhost", port), new Uri($"https://localhost:{port}/push"), CancellationToken.None));

            // The same address as the proxy the operator configured for a public push host: connected.
            await using var stream = await addresses.ConnectAsync(loopback, new Uri("https://push.example.com/push"), CancellationToken.None);
            using var accepted = await listener.AcceptTcpClientAsync();
            Assert.True(accepted.Connected);
        }
        finally
        {
            listener.Stop();
        }
    }
}
