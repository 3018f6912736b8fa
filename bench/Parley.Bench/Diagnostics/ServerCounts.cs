using Parley.Bench.Hosting;

namespace Parley.Bench.Diagnostics;

/// <summary>
/// Counts that hold on a loaded machine, read at both ends of a measured window from /v1/metrics:
/// the server's thread-pool work items, lock contentions and bytes allocated. Per message or per
/// second they show the hops and garbage that CPU time on shared cores blurs. Context switches
/// and syscalls come from perf (scripts/profile-counts.sh): summing /proc/PID/task/*/status
/// loses the switches of threads that end within the window, and the thread pool retires idle
/// threads right after a load.
/// </summary>
internal sealed record ServerCounts(long? WorkItems, long? Contentions, long? Allocated)
{
    /// <summary>Reads them now; the metrics fields are null when the server does not publish them.</summary>
    public static async Task<ServerCounts> ReadAsync(ServerUnderTest server, CancellationToken ct)
    {
        var metrics = await server.MetricsAsync(ct);
        long? Metric(string name) => metrics.TryGetValue(name, out var v) ? v : null;
        return new ServerCounts(Metric("parley_threadpool_completed_items_total"), Metric("parley_lock_contentions_total"),
            Metric("parley_gc_allocated_bytes_total"));
    }

    /// <summary>
    /// Adds the window's counts divided by <paramref name="per"/> (messages, or seconds) as table
    /// rows and RESULT fields named <paramref name="prefix"/>…; the reads' own metrics requests are
    /// a few work items, nothing against a window's thousands.
    /// </summary>
    public void Report(ServerCounts after, ResultReport report, double per, string unit, string prefix)
    {
        if (per <= 0)
        {
            return;
        }
        if (after.WorkItems - WorkItems is long items)
        {
            report.Row($"server thread-pool work items per {unit}", items / per, "0.00");
            report.Field(prefix + "tp_items", items / per, "0.00");
        }
        if (after.Contentions - Contentions is long contentions)
        {
            report.Row($"server lock contentions per {unit}", contentions / per, "0.000");
            report.Field(prefix + "lock_contentions", contentions / per, "0.000");
        }
        if (after.Allocated - Allocated is long allocated)
        {
            report.Row($"server bytes allocated per {unit}", allocated / per, "0");
            report.Field(prefix + "alloc_bytes", allocated / per, "0");
        }
    }
}
