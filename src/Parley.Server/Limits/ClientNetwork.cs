using System.Net;
using System.Net.Sockets;
using Parley.Server.Gateway;

namespace Parley.Server.Limits;

/// <summary>
/// What a per-address limit counts by. An IPv4 address is one client; an IPv6 address is counted
/// by its /64, the block one home or one host is given, so the 2^64 addresses a single client can
/// use cannot each take a limit's full allowance.
/// </summary>
public static class ClientNetwork
{
    /// <summary>The address as a limit counts it: IPv4 (IPv4-mapped IPv6 too) unchanged, IPv6 with its low 64 bits zeroed.</summary>
    public static IPAddress Of(IPAddress address)
    {
        var ip = TrustedProxies.Normalize(address);
        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return ip;
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <summary>A text key for <see cref="Of"/>: "203.0.113.7" or "2001:db8:1:2::/64".</summary>
    public static string KeyOf(IPAddress address)
    {
        var network = Of(address);
        return network.AddressFamily == AddressFamily.InterNetworkV6 ? network + "/64" : network.ToString();
    }
}
