using Microsoft.Extensions.Hosting;
using Parley.Server.Accounts;

namespace Parley.Server.Presence;

/// <summary>Persists last-seen times every 5 s and once more at shutdown.</summary>
public sealed class LastSeenFlusher(AccountDirectory directory, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                directory.FlushLastSeen();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        directory.FlushLastSeen();
    }
}
