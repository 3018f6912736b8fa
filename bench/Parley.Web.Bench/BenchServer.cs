using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.Web.Bench;

/// <summary>The built server as its own process on a free loopback port with a temp data folder.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _dataDir;

    private BenchServer(Process? process, string? dataDir, Uri baseUri)
    {
        _process = process;
        _dataDir = dataDir;
        BaseUri = baseUri;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri { get; }

    /// <summary>A server started by someone else (for example `dotnet run -c Release --project src/Parley.Server`); left running.</summary>
    public static BenchServer Running(Uri baseUri) => new(null, null, baseUri);

    /// <summary>Starts the server built beside this bench (same configuration) and waits for /v1/health.</summary>
    public static async Task<BenchServer> StartAsync()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "src", "Parley.Server")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new DirectoryNotFoundException("repository root");
        }
        // PARLEY_SERVER_DLL measures a published server (dotnet publish src/Parley.Server): its app is trimmed.
        var dll = Environment.GetEnvironmentVariable("PARLEY_SERVER_DLL") is { Length: > 0 } published
            ? published
            : Path.Combine(root, "src", "Parley.Server", "bin", configuration, "net10.0", "Parley.Server.dll");
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var baseUri = new Uri($"http://127.0.0.1:{port}/");
            var dataDir = Path.Combine(Path.GetTempPath(), "parley-web-bench-" + Guid.NewGuid().ToString("N"));
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // The long chat is one sender flooding one recipient, which the default limits slow to 20 messages
            // a second after a burst (5,000 took 400 s): the bench measures the browser, so they are lifted here.
            foreach (var arg in new[] { dll, "--urls", baseUri.ToString().TrimEnd('/'), "--data", dataDir,
                "--Parley:Limits:MessagesPerSecondPerRecipient=100000", "--Parley:Limits:MessagesPerSecondPerSender=100000" })
            {
                info.ArgumentList.Add(arg);
            }
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new BenchServer(process, dataDir, baseUri);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var i = 0; i < 600; i++)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(baseUri, "/v1/health"));
                    if (response.IsSuccessStatusCode)
                    {
                        return server;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(100);
            }
            await server.DisposeAsync();
            throw new TimeoutException("the server did not start");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
