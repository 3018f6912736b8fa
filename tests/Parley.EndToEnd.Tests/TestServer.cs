using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Server;
using Parley.Server.Accounts;
using Parley.Server.Messaging;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// A real server on a loopback port with a temp data folder, plus the temp profile folders of the
/// clients a test registers on it. Disposing stops the clients, the server, and deletes the folders.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "parley-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly List<ParleyClient> _clients = [];
    private RunningServer _server = null!;

    public Uri BaseUri => _server.BaseUri;

    public string DataDir => Path.Combine(_root, "data");

    public static async Task<TestServer> StartAsync(Action<Parley.Server.Configuration.ParleyOptions>? configure = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null, TimeProvider? time = null)
    {
        var test = new TestServer();
        test._server = await ParleyServer.StartAsync(test.DataDir, configure, time, services);
        return test;
    }

    /// <summary>How many envelopes the server's durable queue holds for <paramref name="client"/>'s device (as of the last commit).</summary>
    public int QueuedFor(ParleyClient client)
    {
        var services = _server.App.Services;
        var account = services.GetRequiredService<AccountDirectory>().Find(client.Credentials.User)
            ?? throw new InvalidOperationException($"no account {client.Credentials.User}");
        return services.GetRequiredService<IMessageStore>().Usage(new DeviceAddress(account.Id, client.Credentials.DeviceId).Key).Envelopes;
    }

    /// <summary>A fresh, empty profile folder.</summary>
    public string NewProfileDir() => Path.Combine(_root, "profile-" + Guid.NewGuid().ToString("N"));

    /// <summary>Registers <paramref name="user"/> in a fresh profile; the client is not connected yet.</summary>
    public async Task<ParleyClient> RegisterAsync(string user)
    {
        var client = await ParleyClient.RegisterAsync(NewProfileDir(), BaseUri, user, options: Wait.Options());
        _clients.Add(client);
        return client;
    }

    /// <summary>Links a new device to <paramref name="existing"/>'s account in a fresh profile.</summary>
    public async Task<ParleyClient> LinkAsync(ParleyClient existing)
    {
        var client = await existing.LinkDeviceAsync(NewProfileDir());
        _clients.Add(client);
        return client;
    }

    /// <summary>Opens another client instance on an existing profile (as a restarted app would).</summary>
    public ParleyClient Reopen(string profileDir)
    {
        var client = ParleyClient.Open(profileDir, Wait.Options());
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        await _server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
