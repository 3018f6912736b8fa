using System.Net;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>
/// The reverse proxies whose X-Forwarded-For is believed (<see cref="ParleyOptions.TrustedProxies"/>),
/// and the client address a request came from through them.
/// </summary>
public sealed class TrustedProxies
{
    private readonly HashSet<IPAddress> _proxies;

    public TrustedProxies(IOptions<ParleyOptions> options)
    {
        _proxies = [.. options.Value.TrustedProxies.Select(p => Normalize(IPAddress.Parse(p.Trim())))];
    }

    /// <summary>The proxies as parsed addresses (IPv4-mapped IPv6 folded to IPv4).</summary>
    public IReadOnlyCollection<IPAddress> Addresses => _proxies;

    public bool IsTrusted(IPAddress address) => _proxies.Count > 0 && _proxies.Contains(Normalize(address));

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
