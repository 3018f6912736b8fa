using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Parley.Protocol;
using Parley.Server.Configuration;

namespace Parley.Server.Observability;

/// <summary>
/// GET /v1/health (public) and GET /v1/metrics: the <see cref="ServerMetrics"/> instruments in
/// Prometheus text format, only for <c>Authorization: Bearer</c> with <c>Parley:AdminToken</c>
/// (401 otherwise, and always while no admin token is set). No names, no content.
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>Where the Prometheus scrape endpoint is.</summary>
    public const string Path = "/v1/metrics";

    /// <summary>Registers the meter provider with the Prometheus exporter for the <c>Parley.Server</c> meter.</summary>
    public static void AddParleyMetrics(this IServiceCollection services)
    {
        services.AddSingleton<ServerMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServerMetrics.MeterName)
            .AddPrometheusExporter(prometheus =>
            {
                // Observable instruments are read at each scrape; a cached answer would hide what just changed.
                prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                // One process, one meter: the scope and target_info series would only repeat that.
                prometheus.ScopeInfoEnabled = false;
                prometheus.TargetInfoEnabled = false;
            }));
    }

    /// <summary>Maps /v1/health and the admin-only /v1/metrics.</summary>
    public static void MapMetrics(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The instruments exist once this has run: create them before the first scrape.
        app.ServiceProvider.GetRequiredService<ServerMetrics>();
        app.MapGet("/v1/health", () => Results.Json(new { status = "ok" }));
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
        {
            if (!IsAdmin(http))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await http.Response.WriteAsJsonAsync(new ApiError("unauthorized", "metrics need Authorization: Bearer with the admin token"), ParleyJson.Options);
                return;
            }
            await next(http);
        }), optionsName: null);
    }

    private static bool IsAdmin(HttpContext http)
    {
        var adminToken = http.RequestServices.GetRequiredService<ParleyOptions>().AdminToken;
        if (string.IsNullOrEmpty(adminToken) || !AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(adminToken), Encoding.UTF8.GetBytes(header.Parameter));
    }
}
