using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.Web.Tests;

/// <summary>
/// The built server run as its own process (<c>dotnet Parley.Server.dll --urls ... --data ...</c>)
/// on a free loopback port with a temp data folder, exactly as a user starts it: it serves the app at /.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "parley-web-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    private ServerProcess(int port) => Port = port;

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts the server and waits until /v1/health answers.</summary>
    public static async Task<ServerProcess> StartAsync()
    {
        var server = new ServerProcess(FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts (again) the server process on the same port and data folder.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(RepoPaths.ServerDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { RepoPaths.ServerDll, "--urls", BaseUri.ToString().TrimEnd('/'), "--data", _dataDir })
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the server.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitHealthyAsync();
    }

    /// <summary>Restarts the server with an empty data folder: every account and device it knew is gone.</summary>
    public async Task ForgetEverythingAsync()
    {
        await StopAsync();
        Directory.Delete(_dataDir, recursive: true);
        await RestartAsync();
    }

    /// <summary>Stops the server process at once (SIGKILL).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task WaitHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + Wait.Limit;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode}.");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "/v1/health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("The server did not become healthy.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
