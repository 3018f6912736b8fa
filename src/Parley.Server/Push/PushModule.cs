using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Configuration;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Push;

/// <summary>Wires push notifications into the server: services with <see cref="AddPush"/>, the HTTP endpoint with <see cref="MapPush"/>.</summary>
public static class PushModule
{
    /// <summary>Where clients fetch the server's VAPID public key (the Web Push applicationServerKey).</summary>
    public const string VapidPath = "/v1/push/vapid";

    /// <summary>Registers the subscription store, the VAPID keys (made at first start), the sender and the background scheduler.</summary>
    public static IServiceCollection AddPush(this IServiceCollection services, ParleyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddMetrics();
        services.AddSingleton(_ => VapidKeys.LoadOrCreate(options.DataDir));
        services.AddSingleton<IPushTargetStore, SqlitePushTargetStore>();
        services.AddSingleton<PushSubscriptions>();
        services.AddSingleton<PushDelivery>();
        services.AddSingleton<PushMetrics>();
        services.AddSingleton<PushScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<PushScheduler>());
        return services;
    }

    /// <summary>Maps GET /v1/push/vapid: <c>{"public_key": base64url of the 65-byte P-256 point}</c>.</summary>
    public static IEndpointRouteBuilder MapPush(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var vapid = app.ServiceProvider.GetRequiredService<VapidKeys>(); // made now, at start, not on the first request
        var body = new { public_key = System.Buffers.Text.Base64Url.EncodeToString(vapid.PublicKey) };
        app.MapGet(VapidPath, () => Results.Json(body, ParleyJson.Options));
        return app;
    }
}
