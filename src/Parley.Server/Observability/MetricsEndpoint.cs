using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Server.Accounts;
using Parley.Server.Gateway;

namespace Parley.Server.Observability;

/// <summary>GET /v1/metrics: counts an operator or the load generator reads; no names, no content.</summary>
public static class MetricsEndpoint
{
    public static void MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/v1/metrics", (ConnectionRegistry registry, ServerCapacity capacity, UnauthenticatedSockets unauthenticated, AccountDirectory directory) =>
        {
            var gc = GC.GetGCMemoryInfo();
            return Results.Json(new
            {
                connections = registry.Open,
                authenticated = registry.Authenticated,
                max_connections = capacity.MaxConnections,
                refused_connections = capacity.Refused,
                // Sockets before Hello (TCP, TLS, upgrade, or plain HTTP), and what their limits did.
                unauthenticated_sockets = unauthenticated.Current,
                max_unauthenticated_sockets = unauthenticated.MaxTotal,
                refused_unauthenticated_total = unauthenticated.Refused,
                handshake_timeouts_total = unauthenticated.TimedOut,
                accounts = directory.Count,
                managed_heap_bytes = GC.GetTotalMemory(false),
                gc_heap_bytes = gc.HeapSizeBytes,
                working_set_bytes = Environment.WorkingSet,
                // Cumulative since start: a reader takes differences over its own window.
                gc_pause_ms_total = (long)GC.GetTotalPauseDuration().TotalMilliseconds,
                gc_collections_total = GC.CollectionCount(0), // every collection counts as gen0 too
                gc_gen1_collections_total = GC.CollectionCount(1),
                gc_gen2_collections_total = GC.CollectionCount(2),
                allocated_bytes_total = GC.GetTotalAllocatedBytes(),
            }, ParleyJson.Options);
        });
    }
}
