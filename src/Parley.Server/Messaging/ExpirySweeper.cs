using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Messaging;

/// <summary>Deletes undelivered envelopes past their expiry (default 30 days) and old dedup entries, hourly.</summary>
public sealed partial class ExpirySweeper(IMessageStore store, IOptions<ParleyOptions> options, TimeProvider time, ILogger<ExpirySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            do
            {
                await SweepAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One sweep; public so tests can run it with a moved clock.</summary>
    public async Task<int> SweepAsync()
    {
        var now = time.GetUtcNow();
        var deleted = await store.DeleteExpiredAsync(now.ToUnixTimeMilliseconds(),
            (now - TimeSpan.FromDays(options.Value.Limits.DedupDays)).ToUnixTimeMilliseconds());
        if (deleted > 0)
        {
            LogExpired(logger, deleted);
        }
        return deleted;
    }

    [LoggerMessage(LogLevel.Information, "Expired {Count} undelivered envelopes")]
    private static partial void LogExpired(ILogger logger, int count);
}
