using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Media;

/// <summary>
/// Deletes unfinished uploads older than Media.UnfinishedExpiryHours and finished blobs older than
/// Media.BlobTtlDays, every Media.SweepIntervalMinutes on the injected clock. At start it also
/// rebuilds the quota ledger from what is stored. Expired entries are refused by the endpoints
/// even before a sweep removes them.
/// </summary>
public sealed partial class MediaSweeper(IBlobStore store, MediaQuota quota, IOptions<ParleyOptions> options, TimeProvider time,
    ILogger<MediaSweeper> logger) : BackgroundService
{
    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var records = new List<BlobRecord>();
        await foreach (var record in store.ListAsync(cancellationToken))
        {
            records.Add(record);
        }
        quota.Load(records);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, options.Value.Media.SweepIntervalMinutes)), time);
        try
        {
            do
            {
                await SweepAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One sweep; returns how many uploads and blobs it deleted. Public so tests can run it with a moved clock.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var media = options.Value.Media;
        var expired = new List<BlobRecord>();
        await foreach (var record in store.ListAsync(cancellationToken))
        {
            if (MediaEndpoints.ExpiresAt(record, media) <= now)
            {
                expired.Add(record);
            }
        }
        int deleted = 0;
        foreach (var record in expired)
        {
            // An upload a PATCH is still writing (it began before the expiry) waits for the next
            // sweep: deleting it now would lose bytes that PATCH is about to acknowledge.
            if (!UploadLocks.TryTake(store, record.Id))
            {
                continue;
            }
            try
            {
                // Looked at again under the lock: what was listed as files without metadata may have
                // been an upload whose creation has finished since.
                if (await store.FindAsync(record.Id, cancellationToken) is { } current && MediaEndpoints.ExpiresAt(current, media) > now)
                {
                    continue;
                }
                await store.DeleteAsync(record.Id, cancellationToken);
                quota.Release(record.AccountId, record.Id);
                deleted++;
            }
            finally
            {
                UploadLocks.Release(store, record.Id);
            }
        }
        if (deleted > 0)
        {
            LogSwept(logger, deleted);
        }
        return deleted;
    }

    [LoggerMessage(LogLevel.Information, "Expired {Count} media uploads and blobs")]
    private static partial void LogSwept(ILogger logger, int count);
}
