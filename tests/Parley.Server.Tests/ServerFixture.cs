using Parley.Server.Configuration;

namespace Parley.Server.Tests;

/// <summary>A real server on a loopback port with its own temporary data folder, deleted afterwards.</summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private ServerFixture(RunningServer server, string dataDir)
    {
        Server = server;
        DataDir = dataDir;
    }

    public RunningServer Server { get; }

    public string DataDir { get; }

    public static async Task<ServerFixture> StartAsync(Action<ParleyOptions>? configure = null, TimeProvider? time = null, string? dataDir = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("parley-test-").FullName;
        var server = await ParleyServer.StartAsync(dataDir, configure, time, services);
        return new ServerFixture(server, dataDir);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
