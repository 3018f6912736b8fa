using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;
using Parley.Server.Limits;

namespace Parley.Server.Gateway;

/// <summary>
/// Counts the sockets that have not said Hello yet (TCP accepted, TLS, upgrade request, waiting
/// for Hello, or plain HTTP), per client address and in all, and refuses new ones beyond
/// <see cref="LimitOptions.MaxUnauthenticatedPerAddress"/> and the unauthenticated share of
/// <see cref="ServerCapacity.MaxConnections"/>: one address, or a storm of silent sockets,
/// cannot take the room real clients need to log in. An address is counted as
/// <see cref="ClientNetwork.Of"/> gives it (IPv6 by its /64).
/// </summary>
public sealed class UnauthenticatedSockets
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly int _perAddressLimit;
    private int _total;
    private long _refused;
    private long _timedOut;

    public UnauthenticatedSockets(IOptions<ParleyOptions> options, ServerCapacity capacity)
    {
        var limits = options.Value.Limits;
        _perAddressLimit = Math.Max(1, limits.MaxUnauthenticatedPerAddress);
        MaxTotal = (int)Math.Max(1, (long)capacity.MaxConnections * Math.Clamp(limits.UnauthenticatedSharePercent, 1, 100) / 100);
    }

    /// <summary>Most sockets not yet authenticated, all addresses together.</summary>
    public int MaxTotal { get; }

    /// <summary>Sockets open now that have not said Hello.</summary>
    public int Current => Volatile.Read(ref _total);

    /// <summary>Sockets refused at accept or upgrade because their address or the server was at its limit, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Sockets aborted for missing the upgrade or Hello deadline, since start.</summary>
    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>Sockets not yet authenticated from <paramref name="address"/>.</summary>
    public int From(IPAddress address) => _perAddress.GetValueOrDefault(ClientNetwork.Of(address));

    /// <summary>
    /// Counts a new socket; false (and not counted) when the server's share is used up or, unless
    /// <paramref name="address"/> is null (a trusted proxy, counted per client later), its address is at its cap.
    /// </summary>
    public bool TryAdd(IPAddress? address)
    {
        if (Interlocked.Increment(ref _total) > MaxTotal)
        {
            Interlocked.Decrement(ref _total);
            Interlocked.Increment(ref _refused);
            return false;
        }
        if (address is not null && !TryAddAddress(address))
        {
            Interlocked.Decrement(ref _total);
            Interlocked.Increment(ref _refused);
            return false;
        }
        return true;
    }

    /// <summary>Counts an already counted socket against <paramref name="address"/> too (the client behind a proxy); false when that address is at its cap.</summary>
    public bool TryAttribute(IPAddress address)
    {
        if (TryAddAddress(address))
        {
            return true;
        }
        Interlocked.Increment(ref _refused);
        return false;
    }

    /// <summary>Uncounts a socket that authenticated or closed; <paramref name="address"/> as it was counted (null: none).</summary>
    public void Remove(IPAddress? address)
    {
        if (address is not null)
        {
            RemoveAddress(address);
        }
        Interlocked.Decrement(ref _total);
    }

    /// <summary>Uncounts a socket from its address only (moving it to the client's address behind a proxy).</summary>
    public void RemoveAddress(IPAddress address)
    {
        address = ClientNetwork.Of(address);
        while (true)
        {
            int count = _perAddress.GetValueOrDefault(address);
            if (count <= 1)
            {
                // Remove the entry only if still 1, so an idle address holds no memory.
                if (count == 0 || _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, 1)))
                {
                    return;
                }
            }
            else if (_perAddress.TryUpdate(address, count - 1, count))
            {
                return;
            }
        }
    }

    public void NoteTimedOut() => Interlocked.Increment(ref _timedOut);

    private bool TryAddAddress(IPAddress address)
    {
        address = ClientNetwork.Of(address);
        while (true)
        {
            if (_perAddress.TryGetValue(address, out int count))
            {
                if (count >= _perAddressLimit)
                {
                    return false;
                }
                if (_perAddress.TryUpdate(address, count + 1, count))
                {
                    return true;
                }
            }
            else if (_perAddress.TryAdd(address, 1))
            {
                return true;
            }
        }
    }
}
