using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Stands in front of the real server's media downloads, as a proxy on the way would: it lets them
/// through, refuses them (429), or stalls them (the request starts and never answers, as over a
/// network path gone dead, until the client gives it up). Install it with
/// <c>TestServer.StartAsync(services: gate.Install)</c>.
/// </summary>
public sealed class MediaGate : IStartupFilter
{
    public enum Mode
    {
        Pass,
        Refuse,
        Stall,
    }

    private volatile Mode _downloads;
    private int _stalled;
    private int _givenUp;

    /// <summary>What becomes of downloads that start from now on (one already stalled stays so until given up).</summary>
    public Mode Downloads
    {
        get => _downloads;
        set => _downloads = value;
    }

    /// <summary>How many stalled downloads their client has given up.</summary>
    public int GivenUp => Volatile.Read(ref _givenUp);

    public void Install(IServiceCollection services) => services.AddSingleton<IStartupFilter>(this);

    /// <summary>Waits until <paramref name="count"/> downloads in all have stalled.</summary>
    public Task StalledAsync(int count) => Wait.UntilAsync(() => Volatile.Read(ref _stalled) >= count, $"{count} stalled downloads");

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (http, inner) =>
        {
            var mode = Downloads;
            if (mode == Mode.Pass || !HttpMethods.IsGet(http.Request.Method) || !http.Request.Path.StartsWithSegments(MediaApi.Uploads))
            {
                await inner(http);
            }
            else if (mode == Mode.Refuse)
            {
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            }
            else
            {
                Interlocked.Increment(ref _stalled);
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                Interlocked.Increment(ref _givenUp);
            }
        });
        next(app);
    };
}
