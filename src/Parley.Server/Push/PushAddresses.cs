using System.Net;
using System.Net.Sockets;
using Parley.Server.Configuration;

namespace Parley.Server.Push;

/// <summary>
/// Where the server may send a push. A push URL comes from a device, so without a check anyone
/// with an account could make the server send requests into the operator's own network (an
/// internal API, a cloud metadata service, a router's admin page): server-side request forgery.
/// Pushes go to public addresses only, checked when a subscription is set (for an address
/// written in the URL) and again on every connection, after DNS, so a name that resolves to a
/// private address, now or later, reaches nothing. Loopback is allowed with
/// <see cref="PushOptions.AllowLoopbackHttp"/>, every address with <see cref="PushOptions.AllowPrivateNetworks"/>.
/// </summary>
public sealed class PushAddresses(PushOptions options)
{
    /// <summary>True when a push may be sent to <paramref name="address"/> under the operator's settings.</summary>
    public bool Allows(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return options.AllowPrivateNetworks || IsPublic(address) || (options.AllowLoopbackHttp && IPAddress.IsLoopback(Unmapped(address)));
    }

    /// <summary>
    /// For <see cref="SocketsHttpHandler.ConnectCallback"/>: see <see cref="ConnectAsync(DnsEndPoint, Uri?, CancellationToken)"/>.
    /// </summary>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ConnectAsync(context.DnsEndPoint, context.InitialRequestMessage.RequestUri, cancellationToken);
    }

    /// <summary>
    /// Resolves <paramref name="endpoint"/>'s host, keeps the addresses <see cref="Allows"/> lets
    /// through, and connects to the first that answers; throws <see cref="PushAddressRefusedException"/>
    /// when the host has none. A connection to another host than <paramref name="requestUri"/>'s is
    /// to the HTTP proxy the operator configured (HTTPS_PROXY): it is made as is, and keeping
    /// requests out of the operator's network is then the proxy's job.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, Uri? requestUri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var host = endpoint.Host;
        bool proxy = requestUri is not null && !string.Equals(requestUri.IdnHost.Trim('[', ']'), host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
        var resolved = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = proxy ? resolved : Array.FindAll(resolved, Allows);
        if (allowed.Length == 0)
        {
            throw new PushAddressRefusedException($"the push host {host} has no public address");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// True for addresses of the public internet; false for loopback, private, shared (carrier NAT),
    /// link-local, unique-local, multicast, documentation, benchmarking and reserved ranges, and for
    /// IPv4 addresses written inside IPv6 (mapped or NAT64) that are one of those.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Unmapped(address);
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int length);
        if (length == 4)
        {
            return !(b[0] is 0 or 10 or 127 or >= 224 // this network, private, loopback, multicast and reserved
                || (b[0] == 100 && b[1] is >= 64 and <= 127) // shared address space (carrier NAT)
                || (b[0] == 169 && b[1] == 254) // link-local (cloud metadata services live here)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2) // protocol assignments, documentation
                || (b[0] == 198 && b[1] is 18 or 19) // benchmarking
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..12].IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublic(new IPAddress(b[12..16])); // NAT64 (64:ff9b::/96): the IPv4 address it stands for
        }
        // Global unicast is 2000::/3, less documentation (2001:db8::/32); the rest (::, ::1,
        // fc00::/7 unique-local, fe80::/10 link-local, ff00::/8 multicast, reserved) is not public.
        return (b[0] & 0xE0) == 0x20 && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8);
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
