using System.Diagnostics.Metrics;
using Parley.Server.Accounts;
using Parley.Server.Gateway;

namespace Parley.Server.Observability;

/// <summary>
/// The server's instruments on the <c>Parley.Server</c> meter, read when /v1/metrics is scraped.
/// Counts only: no user names, message content or keys ever become a value or a tag.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>The meter every Parley server instrument belongs to.</summary>
    public const string MeterName = "Parley.Server";

    private static readonly KeyValuePair<string, object?>[][] Generations =
        [[new("generation", "0")], [new("generation", "1")], [new("generation", "2")]];

    /// <summary>Creates the instruments on a meter from <paramref name="meters"/>, which disposes it with the host.</summary>
    public ServerMetrics(IMeterFactory meters, ConnectionRegistry registry, ServerCapacity capacity, UnauthenticatedSockets unauthenticated, AccountDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);

        // Connections.
        meter.CreateObservableGauge("parley.connections.open", () => registry.Open, "{connection}", "WebSocket connections open, authenticated or not");
        meter.CreateObservableGauge("parley.connections.authenticated", () => registry.Authenticated, "{connection}", "Connections past Hello");
        meter.CreateObservableGauge("parley.connections.max", () => capacity.MaxConnections, "{connection}", "Connections the server accepts before refusing (close 1013)");
        meter.CreateObservableCounter("parley.connections.refused", () => capacity.Refused, "{connection}", "Connections refused at the limit since start");
        // Sockets before Hello (TCP, TLS, upgrade, or plain HTTP), and what their limits did.
        meter.CreateObservableGauge("parley.sockets.unauthenticated", () => unauthenticated.Current, "{socket}", "Sockets not yet past Hello");
        meter.CreateObservableGauge("parley.sockets.unauthenticated.max", () => unauthenticated.MaxTotal, "{socket}", "Sockets before Hello the server holds at most (its share of the connection limit)");
        meter.CreateObservableCounter("parley.sockets.unauthenticated.refused", () => unauthenticated.Refused, "{socket}", "Sockets dropped at accept or refused at upgrade by the pre-Hello caps");
        meter.CreateObservableCounter("parley.sockets.handshake_timeouts", () => unauthenticated.TimedOut, "{socket}", "Sockets dropped at the upgrade or Hello deadline");
        meter.CreateObservableGauge("parley.accounts", () => directory.Count, "{account}", "Registered accounts");

        // Memory and garbage collection. Counters are totals since start: a reader takes differences over its own window.
        meter.CreateObservableGauge("parley.gc.managed_heap", () => GC.GetTotalMemory(false), "By", "Bytes the managed heap holds (GC.GetTotalMemory)");
        meter.CreateObservableGauge("parley.gc.heap", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "GC heap size at the last collection, fragmentation included");
        meter.CreateObservableGauge("parley.process.working_set", () => Environment.WorkingSet, "By", "Resident memory of the server process");
        meter.CreateObservableCounter("parley.gc.pause", () => (long)GC.GetTotalPauseDuration().TotalMilliseconds, "ms", "Time the runtime was paused for garbage collection");
        // Every collection counts in generation 0 too, so generation="0" is all collections.
        meter.CreateObservableCounter("parley.gc.collections", () => new Measurement<long>[]
        {
            new(GC.CollectionCount(0), Generations[0]),
            new(GC.CollectionCount(1), Generations[1]),
            new(GC.CollectionCount(2), Generations[2]),
        }, "{collection}", "Garbage collections of this generation or higher");
        meter.CreateObservableCounter("parley.gc.allocated", () => GC.GetTotalAllocatedBytes(), "By", "Bytes allocated on the managed heap");

        // Thread hand-offs: work items the thread pool ran, and lock waits. Per message and per idle second they show hops that CPU time alone hides.
        meter.CreateObservableCounter("parley.threadpool.completed_items", () => ThreadPool.CompletedWorkItemCount, "{item}", "Work items the thread pool has run");
        meter.CreateObservableCounter("parley.lock.contentions", () => Monitor.LockContentionCount, "{contention}", "Times a thread waited for a contended lock");
    }
}
