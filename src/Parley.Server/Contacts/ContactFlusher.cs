using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Contacts;

/// <summary>Persists new contact edges every second and once more at shutdown: one transaction for all of them, off the send path.</summary>
public sealed partial class ContactFlusher(ContactBook contacts, TimeProvider time, ILogger<ContactFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                FlushLogged();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        FlushLogged();
    }

    private void FlushLogged()
    {
        try
        {
            contacts.Flush();
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
        {
            LogFlushFailed(logger, e);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Saving new contacts failed; retrying at the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception e);
}
