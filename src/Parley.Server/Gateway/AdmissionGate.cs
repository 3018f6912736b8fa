using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>
/// The outermost Kestrel connection middleware (in front of TLS): every accepted socket gets an
/// <see cref="Admission"/>, or is dropped at once when its address or the server has too many
/// sockets that have not said Hello. Runs before any byte is read, so a silent socket is bounded
/// by count and by time.
/// </summary>
public sealed partial class AdmissionGate(UnauthenticatedSockets sockets, TrustedProxies proxies, IOptions<ParleyOptions> options, TimeProvider time,
    ILogger<AdmissionGate> logger)
{
    private readonly TimeSpan _upgradeDeadline = TimeSpan.FromSeconds(options.Value.Limits.UpgradeTimeoutSeconds);
    private long _lastLogTicks;

    /// <summary>Kestrel connection middleware: <c>listenOptions.Use(next => ctx => gate.OnConnectionAsync(ctx, next))</c>.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var remote = connection.RemoteEndPoint is IPEndPoint ip ? TrustedProxies.Normalize(ip.Address) : IPAddress.None;
        var admission = Admission.TryStart(sockets, connection, remote, proxies.IsTrusted(remote), _upgradeDeadline, time);
        if (admission is null)
        {
            NoteRefused();
            connection.Abort(new ConnectionAbortedException("too many unauthenticated sockets"));
            return;
        }
        using (admission)
        {
            connection.Features.Set(admission);
            await next(connection);
        }
    }

    private void NoteRefused()
    {
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastLogTicks);
        // One line per 10 s at most: a refusal storm must not become a logging storm.
        if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastLogTicks, now, last) == last)
        {
            LogRefused(logger, sockets.Current, sockets.Refused);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Refusing sockets that have not authenticated: {Current} open, {Total} refused so far (per-address cap or unauthenticated share reached)")]
    private static partial void LogRefused(ILogger logger, int current, long total);
}
