using System.Diagnostics;
using Parley.Bench.Hosting;
using Parley.Bench.Wire;

namespace Parley.Bench.Scenarios;

/// <summary>
/// N users, one device each, all connected, sending 256-byte payloads to random peers (paced to a
/// total rate, or flat out within a per-connection window). Measures delivered messages/s,
/// send → recipient latency, send → SENT latency, and server CPU per delivered message.
/// </summary>
internal static class OneToOneScenario
{
    public static async Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct)
    {
        int users = Math.Max(2, options.Users ?? 1000);
        double measureSeconds = options.Duration ?? 10;
        double warmupSeconds = options.Warmup ?? 5;
        double? rate = options.Rate is > 0 ? options.Rate : null;
        // Flat out, 4 per connection is already thousands in flight, far more than a group commit
        // needs; a deeper window only adds queueing delay (and server memory) to every message.
        int window = options.Window ?? (rate is null ? 4 : 256);
        var report = new ResultReport("one-to-one");
        var traffic = new ChatTraffic();

        var clock = Stopwatch.StartNew();
        Parley.Protocol.DeviceCredentials[] devices;
        using (var registrar = new Registrar(server.BaseUri))
        {
            devices = await registrar.RegisterAsync(Registrar.NewRunPrefix(), users, 16, ct);
        }
        Console.Error.WriteLine($"registered {users} users in {clock.Elapsed.TotalSeconds:0.0} s");

        clock.Restart();
        var everyone = new SimulatedDevice[users];
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var receiveLoops = new Task[users];
        await Parallel.ForAsync(0, users, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (i, token) =>
        {
            var connection = await WireConnection.ConnectAsync(server.BaseUri, null, 16 * 1024, token);
            await connection.HelloAsync(devices[i], token);
            var device = new SimulatedDevice(connection, devices[i], traffic, window, seed: i);
            everyone[i] = device;
            receiveLoops[i] = Task.Run(() => device.ReceiveLoopAsync(receiving.Token), token);
            await device.QueueEmpty.Task.WaitAsync(TimeSpan.FromSeconds(30), token);
        });
        Console.Error.WriteLine($"connected {users} devices in {clock.Elapsed.TotalSeconds:0.0} s; " +
                                (rate is null ? $"sending flat out, window {window} per connection" : $"offering {rate:0} msgs/s"));

        using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sendLoops = everyone.Select(d => Task.Run(() => d.SendLoopAsync(everyone, rate is not null, stopSending.Token), ct)).ToArray();
        var pacer = rate is double r ? Task.Run(() => PaceAsync(everyone, r, stopSending.Token), ct) : Task.CompletedTask;

        var warmedUp = await server.WarmUpAsync(TimeSpan.FromSeconds(warmupSeconds), TimeSpan.FromSeconds(Math.Max(warmupSeconds, 40)), ct);
        traffic.EndToEnd.Restart();
        traffic.SentLatency.Restart();
        long delivered0 = Interlocked.Read(ref traffic.Delivered);
        long sent0 = Interlocked.Read(ref traffic.Sent);
        long receipts0 = Interlocked.Read(ref traffic.Receipts);
        var cpu = CpuWindow.Start(server);
        var rss0 = server.RssBytes();

        await Task.Delay(TimeSpan.FromSeconds(measureSeconds), ct);

        cpu.Stop();
        long delivered = Interlocked.Read(ref traffic.Delivered) - delivered0;
        long sent = Interlocked.Read(ref traffic.Sent) - sent0;
        long receipts = Interlocked.Read(ref traffic.Receipts) - receipts0;
        var rss1 = server.RssBytes();
        var metrics = await server.MetricsAsync(ct);
        // Percentiles as of the window's end: what drains afterwards is not measured.
        var endToEnd = traffic.EndToEnd.Snapshot();
        var sentLatency = traffic.SentLatency.Snapshot();
        long backlog = everyone.Sum(d => (long)d.Tokens.CurrentCount);

        // Drain: stop sending, then wait (bounded) until every SENT message and its receipt arrived.
        await stopSending.CancelAsync();
        await Task.WhenAll(sendLoops.Append(pacer));
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(15) &&
               (everyone.Any(d => d.InFlight > 0) || Interlocked.Read(ref traffic.Delivered) < Interlocked.Read(ref traffic.Sent)
                || Interlocked.Read(ref traffic.Receipts) < Interlocked.Read(ref traffic.Delivered)))
        {
            await Task.Delay(50, ct);
        }
        long missing = Interlocked.Read(ref traffic.Sent) - Interlocked.Read(ref traffic.Delivered);
        long missingReceipts = Interlocked.Read(ref traffic.Delivered) - Interlocked.Read(ref traffic.Receipts);
        long inFlightLeft = everyone.Sum(d => (long)d.InFlight);
        string woken = "";
        if (missing != 0 || missingReceipts != 0 || inFlightLeft != 0)
        {
            // Something stayed behind with no traffic left to push it out. A Ping to every
            // connection tells a server that did not wake its send loop from one that lost it.
            long delivered1 = Interlocked.Read(ref traffic.Delivered), receipts1 = Interlocked.Read(ref traffic.Receipts), sent1 = Interlocked.Read(ref traffic.Sent);
            foreach (var device in everyone)
            {
                await device.PingAsync();
            }
            await Task.Delay(2000, ct);
            woken = $"; after a Ping to every connection: +{Interlocked.Read(ref traffic.Sent) - sent1} SENT, " +
                    $"+{Interlocked.Read(ref traffic.Delivered) - delivered1} delivered, +{Interlocked.Read(ref traffic.Receipts) - receipts1} receipts arrived";
        }

        traffic.Stopping = true;
        await receiving.CancelAsync();
        await Parallel.ForEachAsync(everyone, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (d, _) => await d.Connection.DisposeAsync());
        await Task.WhenAll(receiveLoops);

        double seconds = cpu.Seconds;
        report.Row("users (devices, connections)", users.ToString(System.Globalization.CultureInfo.InvariantCulture));
        report.Row("offered", rate is double o ? $"{o:0} msgs/s" : $"flat out, {window} sends in flight per connection");
        report.Row("measured window", seconds, "0.0", $"s after {warmedUp.TotalSeconds:0} s warm-up (until the server's JIT settled)");
        report.Row("delivered", delivered / seconds, "0", "msgs/s");
        report.Row("SENT (durable)", sent / seconds, "0", "msgs/s");
        report.Row("delivery receipts back", receipts / seconds, "0", "msgs/s");
        report.Row("latency send → delivered", endToEnd.Summary());
        report.Row("latency send → SENT", sentLatency.Summary());
        cpu.Report(report, delivered);
        if (rss0 is long a && rss1 is long b)
        {
            report.Row("server RSS", $"{a / 1048576.0:0} → {b / 1048576.0:0} MiB");
        }
        if (metrics.TryGetValue("managed_heap_bytes", out var heap))
        {
            report.Row("server managed heap", heap / 1048576.0, "0", "MiB");
        }
        if (rate is not null)
        {
            report.Row("pacing backlog at end", backlog.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        report.Row("after stop", $"{missing} SENT not delivered, {missingReceipts} receipts missing, {inFlightLeft} sends unanswered (after {drain.Elapsed.TotalSeconds:0.0} s drain){woken}");
        report.Row("errors", traffic.Errors.Count == 0 ? "none" : string.Join(", ", traffic.Errors.Select(e => $"{e.Key}×{e.Value}")));
        report.Row("unexpected closes", traffic.Closed == 0 ? "none" : $"{traffic.Closed} (first: {traffic.FirstClose})");
        report.Row("unknown seqs in AckResult", traffic.UnknownAcks.ToString(System.Globalization.CultureInfo.InvariantCulture));

        report.Field("msgs_per_s", delivered / seconds, "0");
        report.Field("p50_ms", endToEnd.Milliseconds(50), "0.00");
        report.Field("p99_ms", endToEnd.Milliseconds(99), "0.00");
        report.Field("p999_ms", endToEnd.Milliseconds(99.9), "0.00");
        if (cpu.ServerCpuMicroseconds is long serverCpu && delivered > 0)
        {
            report.Field("cpu_us_per_msg", (double)serverCpu / delivered, "0.0");
        }
        report.Field("conns", users, "0");
        return report;
    }

    /// <summary>Hands out send tokens to random devices so the total follows <paramref name="rate"/>.</summary>
    private static async Task PaceAsync(SimulatedDevice[] devices, double rate, CancellationToken stop)
    {
        var random = new Random(12345);
        var clock = Stopwatch.StartNew();
        long issued = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                long due = (long)(clock.Elapsed.TotalSeconds * rate) - issued;
                for (; due > 0; due--, issued++)
                {
                    devices[random.Next(devices.Length)].Tokens.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }
}
