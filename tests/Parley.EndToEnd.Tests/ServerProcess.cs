using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// The built server run as a separate OS process (<c>dotnet Parley.Server.dll --urls ... --data ...</c>),
/// exactly as a user starts it, so a test can kill it with SIGKILL and start it again on the same data
/// folder and port. Shared with the web tests (linked), where it also serves the app at /.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly string[] _command;
    private readonly string _scheme;
    private readonly HttpMessageHandler? _trust;
    private Process? _process;

    private ServerProcess(int port, string dataDir, string[] command, string scheme = "http", HttpMessageHandler? trust = null)
    {
        Port = port;
        DataDir = dataDir;
        _command = command;
        _scheme = scheme;
        _trust = trust;
    }

    public int Port { get; }

    public string DataDir { get; }

    public Uri BaseUri => new($"{_scheme}://127.0.0.1:{Port}/");

    /// <summary>Starts the server on a free loopback port and waits until /v1/health answers; <paramref name="settings"/> are extra arguments (<c>--Parley:Limits:X=1</c>).</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, params string[] settings)
    {
        var server = new ServerProcess(FreePort(), dataDir, [RepoPaths.ServerDll, .. settings]);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Same, but through the CLI: <c>parley server --urls ... --data ...</c>.</summary>
    public static async Task<ServerProcess> StartThroughCliAsync(string dataDir)
    {
        var server = new ServerProcess(FreePort(), dataDir, [RepoPaths.CliDll, "server"]);
        await server.RestartAsync();
        return server;
    }

    /// <summary>
    /// Through the CLI on https://: <c>parley server --urls https://... --cert CERT --key KEY</c>;
    /// <paramref name="trust"/> is a handler that trusts the certificate, for the health check.
    /// </summary>
    public static async Task<ServerProcess> StartTlsThroughCliAsync(string dataDir, string certificatePem, string keyPem, HttpMessageHandler trust)
    {
        var server = new ServerProcess(FreePort(), dataDir, [RepoPaths.CliDll, "server", "--cert", certificatePem, "--key", keyPem], "https", trust);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts (again) the server process on the same port and data folder.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(_command[0])!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"); // the server's own default (InProcessServers)
        foreach (var arg in _command.Concat(["--urls", BaseUri.ToString().TrimEnd('/'), "--data", DataDir]))
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
        await KillAsync();
        Directory.Delete(DataDir, recursive: true);
        await RestartAsync();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; whatever was not durable is gone.</summary>
    public async Task KillAsync()
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
        await KillAsync();
        _trust?.Dispose();
    }

    private async Task WaitHealthyAsync()
    {
        using var http = _trust is null ? new HttpClient() : new HttpClient(_trust, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(2);
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
