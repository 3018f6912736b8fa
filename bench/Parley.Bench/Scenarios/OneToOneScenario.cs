using System.Diagnostics;
using System.Globalization;
using Parley.Bench.Diagnostics;
using Parley.Bench.Hosting;
using Parley.Bench.Wire;

namespace Parley.Bench.Scenarios;

/// <summary>
/// N users, one device each, all connected, sending 256-byte payloads to random peers (paced to a
/// total rate, or flat out within a per-connection window). Measures delivered messages/s,
/// send → recipient latency, send → SENT latency, and server CPU per delivered message.
/// The devices run on <c>--loops</c> epoll event loops (<see cref="DeviceLoop"/>, default 1) over
/// raw sockets with hand-written frames, so the generator costs a fraction of what it measures.
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
        int loopCount = Math.Clamp(options.Loops ?? 1, 1, users);
        var report = new ResultReport("one-to-one");
        ClientFrameEncoding.SelfCheck();

        var clock = Stopwatch.StartNew();
        Parley.Protocol.DeviceCredentials[] credentials;
        using (var registrar = new Registrar(server.BaseUri))
        {
            credentials = await registrar.RegisterAsync(Registrar.NewRunPrefix(), users, 16, ct);
        }
        Console.Error.WriteLine($"registered {users} users in {clock.Elapsed.TotalSeconds:0.0} s");

        // Device i belongs to loop i % loops; connecting is blocking, a few dozen at a time.
        clock.Restart();
        var endToEnd = new LatencyRecorder();
        var sentLatency = new LatencyRecorder();
        var traffic = Enumerable.Range(0, loopCount).Select(_ => new ChatTraffic(endToEnd, sentLatency, options.AckRequests) { LazyReceiptAcks = options.LazyReceiptAcks, ReceiptAckDelayMs = options.ReceiptAckDelayMs }).ToArray();
        var everyone = new ChatDevice[users];
        var loops = new List<DeviceLoop>();
        try
        {
            await Task.Run(() => Parallel.For(0, users, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, i =>
            {
                everyone[i] = ChatDevice.Open(server.BaseUri, credentials[i], traffic[i % loopCount], window, seed: i);
            }), ct);
            if (options.Peers is int k && k > 0)
            {
                // A fixed ring: user i sends to the next K users, so every user has K peers out
                // and K in, and a soak stops adding contact edges after its first seconds.
                k = Math.Min(k, users - 1);
                for (int i = 0; i < users; i++)
                {
                    everyone[i].Peers = [.. Enumerable.Range(1, k).Select(j => everyone[(i + j) % users])];
                }
            }
            for (int l = 0; l < loopCount; l++)
            {
                var shard = everyone.Where((_, i) => i % loopCount == l).ToArray();
                loops.Add(new DeviceLoop(shard, everyone, traffic[l], rate is double r ? r / loopCount : 0, seed: 12345 + l));
            }
            Console.Error.WriteLine($"connected {users} devices in {clock.Elapsed.TotalSeconds:0.0} s; " +
                                    (rate is null ? $"sending flat out, window {window} per connection" : $"offering {rate:0} msgs/s") +
                                    $", {loopCount} event loop{(loopCount == 1 ? "" : "s")}");
            loops.ForEach(l => l.Start());
            return await MeasureAsync(options, server, report, users, measureSeconds, warmupSeconds, rate, window, loops, traffic, endToEnd, sentLatency, ct);
        }
        finally
        {
            foreach (var t in traffic)
            {
                t.Stopping = true;
            }
            foreach (var loop in loops)
            {
                try
                {
                    loop.Stop();
                }
                catch (InvalidOperationException ex)
                {
                    Console.Error.WriteLine(ex.ToString());
                }
                loop.Dispose();
            }
            if (loops.Count == 0)
            {
                foreach (var device in everyone)
                {
                    device?.Dispose();
                }
            }
        }
    }

    private static async Task<ResultReport> MeasureAsync(BenchOptions options, ServerUnderTest server, ResultReport report, int users,
        double measureSeconds, double warmupSeconds, double? rate, int window, List<DeviceLoop> loops, ChatTraffic[] traffic,
        LatencyRecorder endToEnd, LatencyRecorder sentLatency, CancellationToken ct)
    {
        long Sum(Func<ChatTraffic, long> counter) => traffic.Sum(counter);
        long Sent() => Sum(t => Volatile.Read(ref t.Sent));
        long Delivered() => Sum(t => Volatile.Read(ref t.Delivered));
        long Receipts() => Sum(t => Volatile.Read(ref t.Receipts));
        long InFlight() => Sum(t => Volatile.Read(ref t.InFlight));
        void ThrowIfLoopFailed()
        {
            if (loops.Select(l => l.Failure).FirstOrDefault(f => f is not null) is Exception failure)
            {
                throw new InvalidOperationException("a device loop failed", failure);
            }
        }

        var warmedUp = await server.WarmUpAsync(TimeSpan.FromSeconds(warmupSeconds), TimeSpan.FromSeconds(Math.Max(warmupSeconds, 40)), ct);
        ThrowIfLoopFailed();
        endToEnd.Restart();
        sentLatency.Restart();
        long delivered0 = Delivered(), sent0 = Sent(), receipts0 = Receipts();
        long ackFrames0 = Sum(t => Volatile.Read(ref t.AckFrames)), acked0 = Sum(t => Volatile.Read(ref t.AckedSeqs));
        long rode0 = Sum(t => Volatile.Read(ref t.ReceiptAcksRode)), alone0 = Sum(t => Volatile.Read(ref t.ReceiptAcksAlone));
        var metrics0 = await server.MetricsAsync(ct);
        var counts0 = await ServerCounts.ReadAsync(server, ct);
        long? written0 = GroupFanoutScenario.WrittenBytes(server.Pid);
        var cpu = CpuWindow.Start(server);
        var rss0 = server.RssBytes();

        await Task.Delay(TimeSpan.FromSeconds(measureSeconds), ct);

        cpu.Stop();
        long? written = GroupFanoutScenario.WrittenBytes(server.Pid) - written0;
        var counts1 = await ServerCounts.ReadAsync(server, ct);
        long delivered = Delivered() - delivered0;
        long sent = Sent() - sent0;
        long receipts = Receipts() - receipts0;
        long ackFrames = Sum(t => Volatile.Read(ref t.AckFrames)) - ackFrames0;
        long acked = Sum(t => Volatile.Read(ref t.AckedSeqs)) - acked0;
        long rode = Sum(t => Volatile.Read(ref t.ReceiptAcksRode)) - rode0, alone = Sum(t => Volatile.Read(ref t.ReceiptAcksAlone)) - alone0;
        var rss1 = server.RssBytes();
        var metrics = await server.MetricsAsync(ct);
        // Percentiles as of the window's end: what drains afterwards is not measured.
        var endToEndWindow = endToEnd.Snapshot();
        var sentWindow = sentLatency.Snapshot();
        long backlog = loops.Sum(l => l.Backlog);
        ThrowIfLoopFailed();

        // Drain: stop sending, then wait (bounded) until every SENT message and its receipt arrived.
        loops.ForEach(l => l.StopSending());
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(15) && (InFlight() > 0 || Delivered() < Sent() || Receipts() < Delivered()))
        {
            await Task.Delay(50, ct);
        }
        long missing = Sent() - Delivered();
        long missingReceipts = Delivered() - Receipts();
        long inFlightLeft = InFlight();
        string woken = "";
        if (missing != 0 || missingReceipts != 0 || inFlightLeft != 0)
        {
            // Something stayed behind with no traffic left to push it out. A Ping to every
            // connection tells a server that did not wake its send loop from one that lost it.
            long delivered1 = Delivered(), receipts1 = Receipts(), sent1 = Sent();
            loops.ForEach(l => l.PingAll());
            await Task.Delay(2000, ct);
            woken = $"; after a Ping to every connection: +{Sent() - sent1} SENT, " +
                    $"+{Delivered() - delivered1} delivered, +{Receipts() - receipts1} receipts arrived";
        }
        ThrowIfLoopFailed();
        var (idle, idleCounts) = await MeasureIdleAsync(options, server, ct);

        double seconds = cpu.Seconds;
        report.Row("users (devices, connections)", users.ToString(CultureInfo.InvariantCulture) +
                                                   (options.Peers is int k and > 0 ? $", each sending to {Math.Min(k, users - 1)} fixed peers" : ""));
        report.Row("offered", rate is double o ? $"{o:0} msgs/s" : $"flat out, {window} sends in flight per connection");
        report.Row("measured window", seconds, "0.0", $"s after {warmedUp.TotalSeconds:0} s warm-up (until the server's JIT settled)");
        report.Row("delivered", delivered / seconds, "0", "msgs/s");
        report.Row("SENT (durable)", sent / seconds, "0", "msgs/s");
        report.Row("delivery receipts back", receipts / seconds, "0", "msgs/s");
        report.Row("latency send → delivered", endToEndWindow.Summary());
        report.Row("latency send → SENT", sentWindow.Summary());
        cpu.Report(report, delivered, benchPerMessage: true);
        double? idleShare = idle?.ServerCpuMicroseconds is long idleCpu && idle.Seconds > 0 ? idleCpu / 1e6 / idle.Seconds : null;
        if (idleShare is double share && idle is not null)
        {
            report.Row("server CPU idle, same connections", share * 100, "0.0", $"% of one core (over {idle.Seconds:0.0} s after the drain: warmed up, loops reading, nothing sent)");
            if (cpu.ServerCpuMicroseconds is long loaded && delivered > 0)
            {
                report.Row("server CPU per message net of idle", (loaded - (share * seconds * 1e6)) / delivered, "0.0", "µs");
            }
        }
        counts0.Report(counts1, report, delivered, "message", "per_msg_");
        if (idle is not null && idleCounts is var (before, after))
        {
            before.Report(after, report, idle.Seconds, "second idle", "idle_per_s_");
        }
        if (written is long w && delivered > 0)
        {
            // Mostly the WAL: an envelope's insert and, a second later, its delete in runs of acked seqs.
            report.Row("storage written per message", (double)w / delivered, "0", "bytes (/proc write_bytes)");
            report.Field("written_bytes_per_msg", (double)w / delivered, "0");
        }
        if (rss0 is long a && rss1 is long b)
        {
            report.Row("server RSS", $"{a / 1048576.0:0} → {b / 1048576.0:0} MiB");
        }
        if (metrics.TryGetValue("parley_gc_managed_heap_bytes", out var heap))
        {
            report.Row("server managed heap", heap / 1048576.0, "0", "MiB");
        }
        if (GcWindow(metrics0, metrics, seconds, delivered) is { } gc)
        {
            report.Row("server GC in the window", gc);
        }
        if (rate is not null)
        {
            report.Row("pacing backlog at end", backlog.ToString(CultureInfo.InvariantCulture));
        }
        bool ackRequests = traffic[0].AckRequests;
        report.Row("event loops", $"{loops.Count} (epoll, raw sockets)");
        report.Row("acks", $"{(ackRequests ? "with request ids (each answered by an AckResult)" : "fire-and-forget (request id 0)")}: " +
                           $"{ackFrames / seconds:0} Ack frames/s, {(ackFrames == 0 ? 0 : (double)acked / ackFrames):0.0} seqs each");
        report.Row("receipt acks", traffic[0].LazyReceiptAcks
            ? $"lazy (held for a pass that writes a message ack or a send, ≤ {traffic[0].ReceiptAckDelayMs} ms): {rode / seconds:0}/s rode along, {alone / seconds:0}/s went alone"
            : "eager (every envelope acked in the next pass)");
        report.Row("after stop", $"{missing} SENT not delivered, {missingReceipts} receipts missing, {inFlightLeft} sends unanswered (after {drain.Elapsed.TotalSeconds:0.0} s drain){woken}");
        var errors = traffic.SelectMany(t => t.Errors).GroupBy(e => e.Key).Select(g => $"{g.Key}×{g.Sum(e => e.Value)}").ToList();
        report.Row("errors", errors.Count == 0 ? "none" : string.Join(", ", errors));
        long closed = traffic.Sum(t => t.Closed);
        report.Row("unexpected closes", closed == 0 ? "none" : $"{closed} (first: {traffic.Select(t => t.FirstClose).FirstOrDefault(c => c is not null)})");
        report.Row("unknown seqs in AckResult", Sum(t => Volatile.Read(ref t.UnknownAcks)).ToString(CultureInfo.InvariantCulture) +
                                                (ackRequests ? "" : " (no AckResults: unknown seqs would come back as errors NOT_FOUND)"));

        report.Field("msgs_per_s", delivered / seconds, "0");
        report.Field("p50_ms", endToEndWindow.Milliseconds(50), "0.00");
        report.Field("p99_ms", endToEndWindow.Milliseconds(99), "0.00");
        report.Field("p999_ms", endToEndWindow.Milliseconds(99.9), "0.00");
        if (cpu.ServerCpuMicroseconds is long serverCpu && delivered > 0)
        {
            report.Field("cpu_us_per_msg", (double)serverCpu / delivered, "0.0");
            if (idleShare is double share2)
            {
                report.Field("cpu_us_per_msg_net_of_idle", (serverCpu - (share2 * seconds * 1e6)) / delivered, "0.0");
            }
        }
        if (idleShare is double share3)
        {
            report.Field("idle_cpu_pct", share3 * 100, "0.00");
        }
        report.Field("ack_frames_per_msg", delivered > 0 ? (double)ackFrames / delivered : 0, "0.00");
        report.Field("conns", users, "0");
        report.Field("delivered", delivered, "0");
        report.Field("window_s", seconds, "0.00");
        if (idle is not null)
        {
            report.Field("idle_s", idle.Seconds, "0.00");
        }
        return report;
    }

    /// <summary>
    /// The fixed cost under the per-message one: after the drain the same connections stay open,
    /// the loops still read and answer, nothing is sent, for <c>--idle</c> seconds (default 3; 0
    /// skips it), after a second for the last commit to finish. Measured after the load, not
    /// before it, because before the warm-up the server is still compiling (30% of a core for
    /// 200 idle connections on the first try), which is not what an idle server pays.
    /// </summary>
    private static async Task<(CpuWindow? Window, (ServerCounts Before, ServerCounts After)? Counts)> MeasureIdleAsync(BenchOptions options,
        ServerUnderTest server, CancellationToken ct)
    {
        double idleSeconds = options.Idle ?? 3;
        if (idleSeconds <= 0)
        {
            return (null, null);
        }
        await Task.Delay(1000, ct);
        var before = await ServerCounts.ReadAsync(server, ct);
        var idle = CpuWindow.Start(server, "idle");
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), ct);
        idle.Stop();
        var after = await ServerCounts.ReadAsync(server, ct);
        Console.Error.WriteLine($"idle after the load: server {idle.ServerCpuMicroseconds / 1e4 / idle.Seconds:0.0}% of a core over {idle.Seconds:0.0} s");
        return (idle, (before, after));
    }

    /// <summary>Collections, pause time and allocation per message between two metrics reads; null without the GC metrics.</summary>
    private static string? GcWindow(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after, double seconds, long delivered)
    {
        long Delta(string name) => after.GetValueOrDefault(name) - before.GetValueOrDefault(name);
        const string Collections = "parley_gc_collections_total{generation=\"0\"}";
        if (!after.ContainsKey(Collections) || !before.ContainsKey(Collections))
        {
            return null;
        }
        long paused = Delta("parley_gc_pause_milliseconds_total");
        string perMessage = delivered > 0 ? $", {(double)Delta("parley_gc_allocated_bytes_total") / delivered:0} B allocated per message" : "";
        return $"{Delta(Collections)} collections ({Delta("parley_gc_collections_total{generation=\"1\"}")} gen1, {Delta("parley_gc_collections_total{generation=\"2\"}")} gen2), " +
               $"paused {paused} ms ({paused / (seconds * 10):0.0}% of the time){perMessage}";
    }
}
