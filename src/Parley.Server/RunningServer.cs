using Microsoft.AspNetCore.Builder;

namespace Parley.Server;

/// <summary>A started server; disposing it stops it and waits for its queue writer to finish.</summary>
public sealed class RunningServer(WebApplication app, Uri baseUri) : IAsyncDisposable
{
    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri { get; } = baseUri;

    /// <summary>ws://127.0.0.1:PORT/v1/ws</summary>
    public Uri WebSocketUri => new($"ws://{BaseUri.Authority}{Protocol.RegistrationApi.WebSocket}");

    public WebApplication App { get; } = app;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
