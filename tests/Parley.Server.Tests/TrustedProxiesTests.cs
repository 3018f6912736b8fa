using System.Net;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;
using Parley.Server.Gateway;

namespace Parley.Server.Tests;

public sealed class TrustedProxiesTests
{
    private static TrustedProxies With(params string[] entries) => new(Options.Create(new ParleyOptions { TrustedProxies = [.. entries] }));

    [Fact]
    public void Ranges_and_lone_addresses_are_trusted_in_either_form_of_IPv4_and_nothing_beside_them()
    {
        var proxies = With("10.20.0.0/16", " 192.0.2.7 ", "2001:db8:1::/48", "::ffff:198.51.100.0/120");

        Assert.True(proxies.IsTrusted(IPAddress.Parse("10.20.0.1")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("10.20.255.254")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("::ffff:10.20.3.4")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("192.0.2.7")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("2001:db8:1:ff::9")));
        Assert.True(proxies.IsTrusted(IPAddress.Parse("198.51.100.200"))); // a mapped range folds to IPv4

        Assert.False(proxies.IsTrusted(IPAddress.Parse("10.21.0.1")));
        Assert.False(proxies.IsTrusted(IPAddress.Parse("192.0.2.8")));
        Assert.False(proxies.IsTrusted(IPAddress.Parse("2001:db8:2::1")));
        Assert.False(proxies.IsTrusted(IPAddress.Parse("198.51.101.1")));
        Assert.False(With().IsTrusted(IPAddress.Loopback));
    }

    [Fact]
    public void The_forwarded_chain_is_walked_while_each_hop_is_inside_a_trusted_range()
    {
        var proxies = With("10.0.0.0/8");

        // client → edge proxy 10.1.1.1 → inner proxy 10.2.2.2 → server
        Assert.Equal(IPAddress.Parse("203.0.113.9"), proxies.ClientAddress(IPAddress.Parse("10.2.2.2"), "203.0.113.9, 10.1.1.1"));
        // a client that writes its own entries cannot pass itself off: the walk stops at the first untrusted hop
        Assert.Equal(IPAddress.Parse("198.51.100.4"), proxies.ClientAddress(IPAddress.Parse("10.2.2.2"), "10.9.9.9, 198.51.100.4"));
        // from outside the range the header is ignored
        Assert.Equal(IPAddress.Parse("198.51.100.4"), proxies.ClientAddress(IPAddress.Parse("198.51.100.4"), "203.0.113.9"));
    }

    [Theory]
    [InlineData("10.0.0.1/8")]   // host bits set: probably a typo for an address or a range
    [InlineData("10.0.0.0/33")]
    [InlineData("proxy.example.org")]
    [InlineData("")]
    public void A_bad_entry_stops_the_server_with_a_message_naming_it(string entry)
    {
        var e = Assert.Throws<InvalidOperationException>(() => With("127.0.0.1", entry));
        Assert.Contains($"\"{entry}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("Parley:TrustedProxies", e.Message, StringComparison.Ordinal);
    }
}
