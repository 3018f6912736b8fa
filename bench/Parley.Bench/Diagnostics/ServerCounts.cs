using System.Globalization;
using Parley.Bench.Hosting;

namespace Parley.Bench.Diagnostics;

/// <summary>
/// Counts that hold on a loaded machine, read at both ends of a measured window: the server's
/// context switches (summed over its threads from /proc), thread-pool work items, lock
/// contentions and bytes allocated (from /v1/metrics). Per message or per second they show the
/// wake-ups, hops and garbage that CPU time on shared cores blurs.
/// </summary>
internal sealed record ServerCounts(long Voluntary, long Involuntary, long? WorkItems, long? Contentions, long? Allocated)
{
    /// <summary>Reads them now; the metrics fields are null when the server does not publish them.</summary>
    public static async Task<ServerCounts> ReadAsync(ServerUnderTest server, CancellationToken ct)
    {
        var metrics = await server.MetricsAsync(ct);
        long? Metric(string name) => metrics.TryGetValue(name, out var v) ? v : null;
        var (voluntary, involuntary) = server.Pid is int pid ? ContextSwitches(pid) : (0, 0);
        return new ServerCounts(voluntary, involuntary, Metric("parley_threadpool_completed_items_total"), Metric("parley_lock_contentions_total"),
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
        long voluntary = after.Voluntary - Voluntary, involuntary = after.Involuntary - Involuntary;
        report.Row($"server context switches per {unit}", $"{(voluntary + involuntary) / per:0.00} ({voluntary / per:0.00} voluntary: a thread went to sleep; {involuntary / per:0.00} preempted)");
        report.Field(prefix + "ctx_switches", (voluntary + involuntary) / per, "0.00");
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

    private static (long Voluntary, long Involuntary) ContextSwitches(int pid)
    {
        // /proc/PID/status counts the main thread only: sum every thread's.
        long voluntary = 0, involuntary = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary += long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary += long.Parse(line.AsSpan("nonvoluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // the thread ended while we looked; its switches leave the sum (a thread-pool thread retiring)
            }
        }
        return (voluntary, involuntary);
    }
}
