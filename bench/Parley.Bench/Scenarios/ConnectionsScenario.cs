using System.Diagnostics;
using System.Globalization;
using Parley.Bench.Diagnostics;
using Parley.Bench.Hosting;
using Parley.Bench.Wire;

namespace Parley.Bench.Scenarios;

/// <summary>
/// Opens N authenticated idle connections from worker processes (each ≤ 8,000 sockets, each on
/// its own loopback source address), holds them with heartbeats, and measures the server's RSS
/// and managed-heap growth per connection. Refusals (server full) are counted apart from
/// failures, and a few held connections must still answer Ping at the end.
/// </summary>
internal static class ConnectionsScenario
{
    private const int SocketsPerWorker = 8000;
    private const int PingsPerWorker = 10;

    public static Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct) =>
        RunAsync(options, server, idle: false, ct);

    /// <summary>
    /// The <c>idle</c> scenario: the same run (default 1,000 connections held 20 s with the 25 s
    /// heartbeat, no traffic), reported as the fixed cost an idle server pays: <c>idle_cpu_pct</c>
    /// (server CPU, % of one core, over the hold) and <c>bytes_per_conn</c>.
    /// </summary>
    public static Task<ResultReport> RunIdleAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct) =>
        RunAsync(options, server, idle: true, ct);

    private static async Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, bool idle, CancellationToken ct)
    {
        int n = Math.Max(1, options.Conns ?? (idle ? 1000 : 19_000));
        double holdSeconds = options.Duration ?? (idle ? 20 : 15);
        var report = new ResultReport(idle ? "idle" : "connections");

        var clock = Stopwatch.StartNew();
        Parley.Protocol.DeviceCredentials[] devices;
        using (var registrar = new Registrar(server.BaseUri))
        {
            devices = await registrar.RegisterAsync(Registrar.NewRunPrefix(), n, 32, ct);
        }
        double registerSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"registered {n} users in {registerSeconds:0.0} s");

        var credsFile = Path.Combine(Path.GetTempPath(), $"parley-bench-creds-{Environment.ProcessId}.tsv");
        await File.WriteAllLinesAsync(credsFile, devices.Select(d => $"{d.User}\t{d.DeviceId}\t{d.Password}"), ct);
        var workers = new List<WorkerProcess>();
        try
        {
            await Task.Delay(2000, ct); // let registration garbage settle before the baseline
            var rssBase = server.RssBytes();
            var metricsBase = await server.MetricsAsync(ct);

            int workerCount = (n + SocketsPerWorker - 1) / SocketsPerWorker;
            clock.Restart();
            for (int w = 0, from = 0; w < workerCount; w++)
            {
                int count = (n - from) / (workerCount - w);
                workers.Add(WorkerProcess.Start(server.BaseUri, credsFile, from, count, $"127.0.0.{2 + w}"));
                from += count;
            }
            while (!workers.All(w => w.Ready))
            {
                if (workers.Any(w => w.Exited))
                {
                    throw new InvalidOperationException("a connections worker exited early:\n" + string.Join('\n', workers.Select(w => w.LastError)));
                }
                await Task.Delay(1000, ct);
                Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds,5:0}s open={workers.Sum(w => w.Open)} refused={workers.Sum(w => w.Refused)} failed={workers.Sum(w => w.Failed)}");
            }
            double connectSeconds = clock.Elapsed.TotalSeconds;
            int open = workers.Sum(w => w.Open), refused = workers.Sum(w => w.Refused), failed = workers.Sum(w => w.Failed);

            var cpu = CpuWindow.Start(server, window: null);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(3, holdSeconds)), ct); // let the server finish its per-connection setup
            var rssOpen = server.RssBytes();
            var metricsOpen = await server.MetricsAsync(ct);
            // The settled part of the hold (after the first 3 s): what a long-lived idle server pays, counted.
            var counts0 = await ServerCounts.ReadAsync(server, ct);
            var settled = CpuWindow.Start(server, "idle");
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, holdSeconds - 3)), ct);
            settled.Stop();
            var counts1 = await ServerCounts.ReadAsync(server, ct);
            cpu.Stop();
            var rssHeld = server.RssBytes();

            int stillOpen = 0;
            foreach (var worker in workers)
            {
                var status = await worker.AskAsync("STATUS", "STATUS", ct);
                stillOpen += WorkerProcess.Value(status, "open");
            }
            int pinged = 0, pongs = 0;
            foreach (var worker in workers)
            {
                var answer = await worker.AskAsync($"PING {PingsPerWorker}", "PINGED", ct);
                pongs += WorkerProcess.Value(answer, "ok");
                pinged += WorkerProcess.Value(answer, "of");
            }

            // Close everything and time until the server has let go of every connection.
            clock.Restart();
            await Task.WhenAll(workers.Select(w => w.StopAsync()));
            double closedSeconds = clock.Elapsed.TotalSeconds;
            long? serverOpenAfter = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                // A server busy with the disconnects may miss a metrics call: ask again.
                if ((await server.MetricsAsync(ct)).TryGetValue("parley_connections_open", out var left))
                {
                    serverOpenAfter = left;
                    if (left == 0)
                    {
                        break;
                    }
                }
                await Task.Delay(100, ct);
            }
            double releasedSeconds = clock.Elapsed.TotalSeconds;

            report.Row("connections asked", n.ToString(CultureInfo.InvariantCulture));
            report.Row("opened (Hello → QueueEmpty)", $"{open} in {connectSeconds:0.0} s ({open / connectSeconds:0}/s), {workerCount} worker processes");
            report.Row("refused as full", $"{refused}  (HTTP 503, close 1013 or UNAVAILABLE)");
            report.Row("failed otherwise", failed.ToString(CultureInfo.InvariantCulture) + FirstFailure(workers));
            report.Row("still open after hold", $"{stillOpen} of {open} after {holdSeconds:0} s");
            report.Row("answer Ping after the run", $"{pongs} of {pinged} sampled");
            report.Row("close all", serverOpenAfter switch
            {
                null => $"clients closed in {closedSeconds:0.0} s; no metrics from the server for {releasedSeconds:0} s",
                0 => $"clients closed in {closedSeconds:0.0} s; server at 0 connections after {releasedSeconds:0.0} s",
                long left => $"clients closed in {closedSeconds:0.0} s; server still counts {left} after {releasedSeconds:0} s",
            });
            report.Row("registration", $"{n} users in {registerSeconds:0.0} s ({n / registerSeconds:0}/s, 32 concurrent)");
            if (metricsOpen.TryGetValue("parley_connections_open", out var serverCount))
            {
                report.Row("server says connections", serverCount.ToString(CultureInfo.InvariantCulture));
            }
            if (rssBase is long b0 && rssOpen is long b1 && rssHeld is long b2)
            {
                report.Row("server RSS", $"{b0 / 1048576.0:0.0} MiB before → {b1 / 1048576.0:0.0} MiB open → {b2 / 1048576.0:0.0} MiB after hold");
                if (open > 0)
                {
                    double perConnection = (double)(Math.Max(b1, b2) - b0) / open;
                    report.Row("server RSS per connection", perConnection / 1024, "0.00", "KiB");
                    report.Field("conns", open, "0");
                    report.Field("bytes_per_conn", perConnection, "0");
                }
            }
            else if (open > 0)
            {
                report.Field("conns", open, "0");
            }
            if (metricsBase.TryGetValue("parley_gc_managed_heap_bytes", out var h0) && metricsOpen.TryGetValue("parley_gc_managed_heap_bytes", out var h1) && open > 0)
            {
                report.Row("server managed heap", $"{h0 / 1048576.0:0.0} → {h1 / 1048576.0:0.0} MiB, {(double)(h1 - h0) / open / 1024:0.00} KiB per connection");
            }
            if (metricsBase.TryGetValue("parley_gc_heap_bytes", out var g0) && metricsOpen.TryGetValue("parley_gc_heap_bytes", out var g1) && open > 0)
            {
                report.Row("server GC heap", $"{g0 / 1048576.0:0.0} → {g1 / 1048576.0:0.0} MiB, {(double)(g1 - g0) / open / 1024:0.00} KiB per connection");
            }
            cpu.Report(report, 0);
            if (idle && cpu.ServerCpuMicroseconds is long idleCpu && cpu.Seconds > 0)
            {
                // Over the whole hold, the first 3 s (the last per-connection setup) included: a
                // pessimistic figure, like the heartbeats it has to cover.
                report.Field("idle_cpu_pct", idleCpu / 1e4 / cpu.Seconds, "0.00");
                if (cpu.ServerJitMicroseconds is long jit)
                {
                    // Tiered compilation of the connect path ends soon after; a long-lived server does not pay it.
                    report.Field("idle_cpu_pct_without_jit", (idleCpu - jit) / 1e4 / cpu.Seconds, "0.00");
                }
                report.Field("hold_s", cpu.Seconds, "0.0");
                if (settled.ServerCpuMicroseconds is long settledCpu && settled.Seconds > 0)
                {
                    report.Row("server CPU, settled part", settledCpu / 1e4 / settled.Seconds, "0.00", $"% of one core (the last {settled.Seconds:0.0} s of the hold)");
                    report.Field("settled_cpu_pct", settledCpu / 1e4 / settled.Seconds, "0.00");
                    report.Field("settled_s", settled.Seconds, "0.0");
                }
                counts0.Report(counts1, report, settled.Seconds, "second (settled part)", "per_s_");
            }
            return report;
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.StopAsync()));
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
            File.Delete(credsFile);
        }
    }

    private static string FirstFailure(List<WorkerProcess> workers) =>
        workers.Select(w => w.FirstFailure).FirstOrDefault(f => f is not null) is { } f ? $" (first: {f})" : "";
}
