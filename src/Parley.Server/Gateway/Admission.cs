using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Parley.Server.Gateway;

/// <summary>
/// One socket's way from TCP accept to Hello: it is counted in <see cref="UnauthenticatedSockets"/>
/// until it authenticates or closes, and aborted when it misses a deadline (the upgrade request,
/// then Hello). One timer per socket, re-armed at each step, so a silent socket costs no task.
/// Shared with the layers below through the connection's features (it survives the TLS layer).
/// </summary>
public sealed class Admission : IDisposable
{
    private readonly UnauthenticatedSockets _sockets;
    private readonly ConnectionContext _connection;
    private readonly ITimer _deadline;
    private IPAddress? _counted;
    private int _released;

    private Admission(UnauthenticatedSockets sockets, ConnectionContext connection, IPAddress address, IPAddress? counted, TimeSpan deadline, TimeProvider time)
    {
        _sockets = sockets;
        _connection = connection;
        _counted = counted;
        ClientAddress = address;
        _deadline = time.CreateTimer(static state => ((Admission)state!).Expire(), this, deadline, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The client's address: the socket's peer, or the forwarded one behind a trusted proxy once the upgrade request named it.</summary>
    public IPAddress ClientAddress { get; private set; }

    /// <summary>
    /// Counts a newly accepted socket and arms its deadline; null (nothing counted) when its
    /// address or the server is at its limit. A trusted proxy's sockets are counted per address
    /// only once the client behind it is known.
    /// </summary>
    public static Admission? TryStart(UnauthenticatedSockets sockets, ConnectionContext connection, IPAddress remote, bool fromTrustedProxy,
        TimeSpan upgradeDeadline, TimeProvider time)
    {
        var counted = fromTrustedProxy ? null : remote;
        // The deadline is armed before the socket is counted: whoever sees it counted can rely on
        // its deadline running (a test that advances its clock right after would otherwise race it).
        var admission = new Admission(sockets, connection, remote, counted, upgradeDeadline, time);
        if (sockets.TryAdd(counted))
        {
            return admission;
        }
        admission._deadline.Dispose();
        return null;
    }

    /// <summary>
    /// The upgrade request is complete: counts the socket against the client's address (behind a
    /// proxy, the forwarded one) and gives it <paramref name="helloDeadline"/> to authenticate.
    /// False when that address is already at its cap: the caller refuses the upgrade.
    /// </summary>
    public bool UpgradeReceived(IPAddress client, TimeSpan helloDeadline)
    {
        if (!client.Equals(_counted))
        {
            if (!_sockets.TryAttribute(client))
            {
                return false;
            }
            if (_counted is not null)
            {
                _sockets.RemoveAddress(_counted);
            }
            _counted = client;
        }
        ClientAddress = client;
        _deadline.Change(helloDeadline, Timeout.InfiniteTimeSpan);
        return true;
    }

    /// <summary>A plain HTTP request: Kestrel's own header and keep-alive timeouts take over; the socket stays counted while open.</summary>
    public void HandedToHttp() => _deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>The device said Hello with good credentials: no longer counted, no deadline.</summary>
    public void Authenticated() => Release();

    public void Dispose() => Release();

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }
        _deadline.Dispose();
        _sockets.Remove(_counted);
    }

    private void Expire()
    {
        if (Volatile.Read(ref _released) == 1)
        {
            return;
        }
        _sockets.NoteTimedOut();
        _connection.Abort(new ConnectionAbortedException("handshake deadline missed"));
    }
}
