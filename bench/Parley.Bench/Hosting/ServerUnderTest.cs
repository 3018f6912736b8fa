using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Globalization;
using System.Security.Cryptography;

namespace Parley.Bench.Hosting;

/// <summary>
/// The server a run measures: either the Release build of src/Parley.Server started here as a
/// separate process (loopback port, temp data folder, rate limits raised; stopped and cleaned up
/// on dispose), or one already running at a given URL.
/// </summary>
internal sealed class ServerUnderTest : IAsyncDisposable
{
    private static readonly string[] RaisedLimits =
    [
        "--Parley:Limits:RegistrationsPerMinutePerAddress=100000000",
        "--Parley:Limits:FramesPerSecond=1000000",
        "--Parley:Limits:FrameBurst=1000000",
        // The generator is one script driving thousands of devices: it floods by design.
        "--Parley:Limits:MessagesPerSecondPerSender=100000000",
        "--Parley:Limits:MessageBurstPerSender=100000000",
        "--Parley:Limits:MessagesPerSecondPerRecipient=100000000",
        "--Parley:Limits:MessageBurstPerRecipient=100000000",
        "--Parley:Limits:NewContactsPerHour=100000000",
        "--Parley:Limits:NewContactBurst=100000000",
        "--Parley:Limits:MaxQueuedEnvelopesPerDevice=100000000",
        "--Parley:Limits:MaxQueuedBytesPerDevice=1000000000000",
        // The generator opens its connections from one or a few addresses, many at a time.
        "--Parley:Limits:MaxUnauthenticatedPerAddress=1000000",
    ];

    private readonly Process? _process;
    private readonly string? _dataDir;
    private readonly HttpClient _http;
    private readonly Queue<string> _recentOutput = new();
    private readonly string? _adminToken;

    /// <summary>The plain-to-TLS relay the clients go through when the server speaks TLS; null otherwise.</summary>
    private TlsRelay? _relay;

    private ServerUnderTest(Uri baseUri, int? pid, Process? process, string? dataDir, string? adminToken)
    {
        _adminToken = adminToken;
        BaseUri = baseUri;
        Pid = pid;
        _process = process;
        _dataDir = dataDir;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri { get; }

    /// <summary>The server's process id when known (always when started here).</summary>
    public int? Pid { get; }

    /// <summary>
    /// Uses a server that is already running; CPU and RSS figures need its pid, the server's figures
    /// its admin token (from PARLEY_ADMIN_TOKEN).
    /// </summary>
    public static async Task<ServerUnderTest> AttachAsync(Uri url, int? pid, CancellationToken ct)
    {
        var server = new ServerUnderTest(url, pid, null, null, Environment.GetEnvironmentVariable("PARLEY_ADMIN_TOKEN"));
        await server.WaitHealthyAsync(TimeSpan.FromSeconds(10), ct);
        return server;
    }

    /// <summary>
    /// Starts the Release server build as a child process and waits for /v1/health. With
    /// <paramref name="tls"/> the server listens on https:// with a self-signed certificate and
    /// <see cref="BaseUri"/> is a <see cref="TlsRelay"/> in front of it.
    /// </summary>
    public static async Task<ServerUnderTest> StartAsync(IReadOnlyList<string> extraArgs, CancellationToken ct, bool tls = false)
    {
        var root = RepositoryRoot();
        var dll = await EnsureBuiltAsync(root, ct);
        int port = FreeLoopbackPort();
        var dataDir = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var relay = tls ? TlsRelay.Start(port) : null;
        var url = new Uri($"http://127.0.0.1:{relay?.Port ?? port}/");

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"{(tls ? "https" : "http")}://127.0.0.1:{port}");
        if (tls)
        {
            var (cert, key) = TlsRelay.WriteCertificate(dataDir);
            psi.ArgumentList.Add("--cert");
            psi.ArgumentList.Add(cert);
            psi.ArgumentList.Add("--key");
            psi.ArgumentList.Add(key);
        }
        psi.ArgumentList.Add("--data");
        psi.ArgumentList.Add(dataDir);
        // A fresh admin token per run: /v1/metrics answers only to it.
        var adminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        foreach (var arg in RaisedLimits.Concat(extraArgs).Append($"--Parley:AdminToken={adminToken}"))
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        var server = new ServerUnderTest(url, process.Id, process, dataDir, adminToken) { _relay = relay };
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60), ct);
        }
        catch
        {
            Console.Error.WriteLine("server output:\n" + server.RecentOutput());
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>The server's CPU time (user+system) in microseconds, or null when its pid is unknown.</summary>
    public long? CpuMicroseconds() => Pid is int pid ? ProcessProbe.CpuMicroseconds(pid) : null;

    /// <summary>
    /// Waits until the server's JIT has settled: at least <paramref name="minimum"/>, then until its
    /// tiered-compilation thread used under 2% of a core for three seconds in a row, at most <paramref name="maximum"/>.
    /// Under load, tier-1 recompilation can run for many seconds on two busy cores, and
    /// measuring before it ends charges the JIT to every message. Returns the time waited.
    /// </summary>
    public async Task<TimeSpan> WarmUpAsync(TimeSpan minimum, TimeSpan maximum, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await Task.Delay(minimum, ct);
        if (Pid is not int pid)
        {
            return clock.Elapsed;
        }
        long before = ProcessProbe.ThreadCpuMicroseconds(pid, ".NET Tiered");
        int quietSeconds = 0;
        while (clock.Elapsed < maximum && quietSeconds < 3)
        {
            await Task.Delay(1000, ct);
            long now = ProcessProbe.ThreadCpuMicroseconds(pid, ".NET Tiered");
            quietSeconds = now - before < 20_000 ? quietSeconds + 1 : 0;
            before = now;
        }
        return clock.Elapsed;
    }

    /// <summary>The server's resident set size in bytes, or null when its pid is unknown.</summary>
    public long? RssBytes() => Pid is int pid ? ProcessProbe.RssBytes(pid) : null;

    /// <summary>
    /// GET /v1/metrics (Prometheus text, Bearer admin token) as series → number, a series being the
    /// metric name with its labels as the server writes them (<c>parley_gc_collections_total{generation="1"}</c>);
    /// empty when the server has no such endpoint or refuses the token.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> MetricsAsync(CancellationToken ct)
    {
        var result = new Dictionary<string, long>();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/metrics");
            if (_adminToken is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminToken);
            }
            using var response = await _http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                return result;
            }
            foreach (var line in (await response.Content.ReadAsStringAsync(ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }
                int end = line.IndexOf('}', StringComparison.Ordinal) is var brace and >= 0 ? brace + 1 : line.IndexOf(' ', StringComparison.Ordinal);
                if (end > 0 && double.TryParse(line[end..].Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    // A series without labels is written with empty braces: "name{} value".
                    result[line[..end].Replace("{}", "", StringComparison.Ordinal)] = (long)value;
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // No metrics endpoint (yet): the figures that need it are left out.
        }
        return result;
    }

    /// <summary>The last lines the server printed, for diagnosing a failed run.</summary>
    public string RecentOutput()
    {
        lock (_recentOutput)
        {
            return string.Join('\n', _recentOutput);
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_recentOutput)
        {
            _recentOutput.Enqueue(line);
            while (_recentOutput.Count > 40)
            {
                _recentOutput.Dequeue();
            }
        }
    }

    private async Task WaitHealthyAsync(TimeSpan limit, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode}");
            }
            try
            {
                using var response = await _http.GetAsync("/v1/health", ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // not listening yet
            }
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"{BaseUri} did not answer /v1/health within {limit.TotalSeconds:0} s");
            }
            await Task.Delay(100, ct);
        }
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "src", "Parley.Server", "Parley.Server.csproj")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException("cannot find the repository (src/Parley.Server) above the current folder");
    }

    /// <summary>
    /// The Release server dll; builds it first when it is missing or older than any server or
    /// protocol source, so a run never measures a stale build.
    /// </summary>
    private static async Task<string> EnsureBuiltAsync(string root, CancellationToken ct)
    {
        // A build copied aside (scripts/profile-counts.sh does), so that edits and builds during a long run do not change the server under test.
        if (Environment.GetEnvironmentVariable("PARLEY_SERVER_DLL") is { Length: > 0 } fixedDll)
        {
            return File.Exists(fixedDll) ? fixedDll : throw new InvalidOperationException($"PARLEY_SERVER_DLL: no such file {fixedDll}");
        }
        var dll = Path.Combine(root, "src", "Parley.Server", "bin", "Release", "net10.0", "Parley.Server.dll");
        var newestSource = new[] { "src/Parley.Server", "src/Parley.Protocol", "proto" }
            .Select(p => new DirectoryInfo(Path.Combine(root, p)))
            .Where(d => d.Exists)
            .SelectMany(d => d.EnumerateFiles("*", SearchOption.AllDirectories))
            .Where(f => !f.FullName.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.FullName.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => f.LastWriteTimeUtc)
            .DefaultIfEmpty(DateTime.MinValue)
            .Max();
        if (File.Exists(dll) && File.GetLastWriteTimeUtc(dll) >= newestSource)
        {
            return dll;
        }
        Console.Error.WriteLine("building the server: dotnet build -c Release src/Parley.Server");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "build", "-c", "Release", "src/Parley.Server", "-nologo", "-v", "q" })
        {
            psi.ArgumentList.Add(arg);
        }
        using var build = Process.Start(psi) ?? throw new InvalidOperationException("could not run dotnet build");
        var output = await build.StandardOutput.ReadToEndAsync(ct);
        await build.WaitForExitAsync(ct);
        if (build.ExitCode != 0 || !File.Exists(dll))
        {
            throw new InvalidOperationException("the server build failed:\n" + output);
        }
        return dll;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops a server started here (SIGTERM, then kill after 10 s) and deletes its data folder.</summary>
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_relay is not null)
        {
            await _relay.DisposeAsync();
        }
        if (_process is null)
        {
            return;
        }
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        if (_dataDir is not null)
        {
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
                // a file still held open: the temp folder is left for the OS to clean
            }
        }
    }
}
