using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>
/// The reverse proxies whose X-Forwarded-For is believed (<see cref="ParleyOptions.TrustedProxies"/>),
/// and the client address a request came from through them.
/// </summary>
public sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    public TrustedProxies(IOptions<ParleyOptions> options)
    {
        _networks = [.. options.Value.TrustedProxies.Select(Parse)];
    }

    /// <summary>The proxies as networks: a lone address is a /32 (IPv4) or /128 (IPv6) network; IPv4-mapped IPv6 folded to IPv4.</summary>
    public IReadOnlyList<IPNetwork> Networks => _networks;

    public bool IsTrusted(IPAddress address)
    {
        if (_networks.Length == 0)
        {
            return false;
        }
        address = Normalize(address);
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// "10.0.0.5", "2001:db8::1", or a range "10.0.0.0/8", "2001:db8::/32" (the load balancers'
    /// subnet, where their addresses change). A range written with host bits set is refused, as
    /// is anything else unparsable: a typo must not silently trust nobody, or everybody.
    /// </summary>
    private static IPNetwork Parse(string entry)
    {
        var text = entry.Trim();
        if (text.Contains('/', StringComparison.Ordinal))
        {
            // TryParse clears host bits itself ("10.0.0.1/8" reads as 10.0.0.0/8): refuse those here.
            if (IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal)), out var written)
                && written.Equals(network.BaseAddress))
            {
                return network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
                    ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
                    : network;
            }
        }
        else if (IPAddress.TryParse(text, out var address))
        {
            address = Normalize(address);
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }
        throw new InvalidOperationException(
            $"Parley:TrustedProxies: \"{entry}\" is neither an address (10.0.0.5, 2001:db8::1) nor a range with no host bits set (10.0.0.0/8, 2001:db8::/32).");
    }

    /// <summary>
    /// The client's address: walks X-Forwarded-For from the right (the entry the nearest proxy
    /// added) while the hop it came from is a trusted proxy. Entries an untrusted hop wrote are
    /// never believed, so a client cannot pick its own address. Unparsable entries stop the walk.
    /// </summary>
    public IPAddress ClientAddress(IPAddress remote, string? forwardedFor)
    {
        var current = Normalize(remote);
        if (string.IsNullOrEmpty(forwardedFor) || !IsTrusted(current))
        {
            return current;
        }
        var hops = forwardedFor.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (int i = hops.Length - 1; i >= 0 && IsTrusted(current); i--)
        {
            if (!TryParseHop(hops[i], out var hop))
            {
                break;
            }
            current = Normalize(hop);
        }
        return current;
    }

    /// <summary>An address as IPv4 when it is IPv4-mapped, so "::ffff:10.0.0.1" and "10.0.0.1" count as one.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    // Proxies write "1.2.3.4", "1.2.3.4:5678", "[::1]:5678" or "::1".
    private static bool TryParseHop(string hop, out IPAddress address)
    {
        if (IPEndPoint.TryParse(hop, out var endPoint))
        {
            address = endPoint.Address;
            return true;
        }
        return IPAddress.TryParse(hop, out address!);
    }
}
