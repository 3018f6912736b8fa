using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Parley.Bench.Diagnostics;
using Parley.Bench.Hosting;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// G groups of M members (one device each, all connected; default 4 × 1,024), S senders per group
/// sending 256-byte group bodies (as a sender-key message would be) at a total <c>--rate</c> of
/// group messages/s, or flat out with <c>--window</c> in flight per sender. Every device acks what
/// it gets. Measures member deliveries/s, latency from the send to the LAST member device of each
/// message (p50/p99/p99.9), server CPU per member delivery, and the bytes the server process
/// writes to storage per group message (/proc/PID/io write_bytes: database, WAL and checkpoints).
/// Receivers run on <c>--loops</c> epoll loops, the senders on one more; bodies are opaque to the
/// server, so the generator does no encryption.
/// </summary>
internal static class GroupFanoutScenario
{
    private const int BodyBytes = ChatDevice.PayloadBytes;

    public static async Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct)
    {
        int groups = Extra(options, "groups", 4);
        int members = Math.Max(2, Extra(options, "members", 1024));
        int senders = Math.Clamp(Extra(options, "senders", 8), 1, members);
        double measureSeconds = options.Duration ?? 10;
        double warmupSeconds = options.Warmup ?? 5;
        double? rate = options.Rate is > 0 ? options.Rate : null;
        int window = options.Window ?? (rate is null ? 1 : 64);
        int loopCount = Math.Max(1, options.Loops ?? 2);
        int users = groups * members;
        var report = new ResultReport("group-fanout");

        var clock = Stopwatch.StartNew();
        DeviceCredentials[] credentials;
        using (var registrar = new Registrar(server.BaseUri))
        {
            credentials = await registrar.RegisterAsync(Registrar.NewRunPrefix(), users, 16, ct);
        }
        Console.Error.WriteLine($"registered {users} users in {clock.Elapsed.TotalSeconds:0.0} s");

        var endToEnd = new LatencyRecorder();
        var lastDevice = new LatencyRecorder();
        var sentLatency = new LatencyRecorder();
        // Deliveries still expected per group message (key = the body's bytes 8..16), for the latency to the last device.
        var pending = new ConcurrentDictionary<long, int[]>();
        long nextKey = 0;
        void Delivered(ReadOnlySpan<byte> body)
        {
            if (body.Length >= 16 && pending.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(body[8..]), out var left) && Interlocked.Decrement(ref left[0]) == 0)
            {
                lastDevice.RecordSince(BinaryPrimitives.ReadInt64LittleEndian(body));
                pending.TryRemove(BinaryPrimitives.ReadInt64LittleEndian(body[8..]), out _);
            }
        }
        var receiverTraffic = Enumerable.Range(0, loopCount).Select(_ => new ChatTraffic(endToEnd, sentLatency, options.AckRequests) { GroupDelivered = Delivered, LazyReceiptAcks = options.LazyReceiptAcks, ReceiptAckDelayMs = options.ReceiptAckDelayMs }).ToArray();
        var senderTraffic = new ChatTraffic(endToEnd, sentLatency, options.AckRequests) { GroupDelivered = Delivered, LazyReceiptAcks = options.LazyReceiptAcks, ReceiptAckDelayMs = options.ReceiptAckDelayMs };
        var traffic = receiverTraffic.Append(senderTraffic).ToArray();
        var everyone = new ChatDevice[users];
        var loops = new List<DeviceLoop>();
        clock.Restart();
        try
        {
            // Member i of group g is user g*M + i; the first S of each group send.
            bool IsSender(int u) => u % members < senders;
            await Task.Run(() => Parallel.For(0, users, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, u =>
            {
                var t = IsSender(u) ? senderTraffic : receiverTraffic[u % loopCount];
                everyone[u] = ChatDevice.Open(server.BaseUri, credentials[u], t, IsSender(u) ? window : 0, seed: u);
            }), ct);
            Console.Error.WriteLine($"connected {users} devices in {clock.Elapsed.TotalSeconds:0.0} s");

            clock.Restart();
            for (int g = 0; g < groups; g++)
            {
                var creator = everyone[g * members];
                var create = new CreateGroup();
                create.Members.AddRange(Enumerable.Range(g * members + 1, members - 1).Select(u => credentials[u].User));
                var answer = creator.RequestBlocking(new ClientFrame { CreateGroup = create });
                if (answer.BodyCase != ServerFrame.BodyOneofCase.GroupState)
                {
                    throw new InvalidOperationException($"CreateGroup answered {answer.BodyCase} {answer.Error?.Code} {answer.Error?.Message}");
                }
                var groupId = answer.GroupState.GroupId;
                for (int i = 0; i < senders; i++)
                {
                    int sender = g * members + i;
                    var devices = Enumerable.Range(g * members, members).Where(u => u != sender)
                        .Select(u => new DeviceList { User = credentials[u].User, DeviceIds = { credentials[u].DeviceId } }).ToArray();
                    var body = new byte[BodyBytes];
                    Random.Shared.NextBytes(body);
                    ulong counter = 0;
                    var senderCredentials = credentials[sender];
                    everyone[sender].Group = nowMs =>
                    {
                        long key = Interlocked.Increment(ref nextKey);
                        pending[key] = [members - 1];
                        BinaryPrimitives.WriteInt64LittleEndian(body, Stopwatch.GetTimestamp());
                        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), key);
                        var send = new SendGroupMessage { MessageId = ByteString.CopyFrom(MessageIdFor(nowMs, senderCredentials.DeviceId, ++counter)), GroupId = groupId, SentAt = nowMs, Body = ByteString.CopyFrom(body) };
                        send.Devices.AddRange(devices);
                        return send;
                    };
                }
            }
            Console.Error.WriteLine($"created {groups} groups of {members} in {clock.Elapsed.TotalSeconds:0.0} s");

            var senderDevices = everyone.Where((_, u) => IsSender(u)).ToArray();
            for (int l = 0; l < loopCount; l++)
            {
                var shard = everyone.Where((_, u) => !IsSender(u) && u % loopCount == l).ToArray();
                loops.Add(new DeviceLoop(shard, everyone, receiverTraffic[l], 0, seed: 777 + l));
            }
            // The senders' loop: paced (tokens to random senders) or flat out (their windows).
            loops.Add(new DeviceLoop(senderDevices, everyone, senderTraffic, rate ?? 0, seed: 4242));
            Console.Error.WriteLine((rate is null ? $"sending flat out, {window} in flight per sender" : $"offering {rate:0} group msgs/s") +
                                    $", {senderDevices.Length} senders, {loopCount} receiving loop(s) + 1 sending loop");
            loops.ForEach(l => l.Start());

            var warmedUp = await server.WarmUpAsync(TimeSpan.FromSeconds(warmupSeconds), TimeSpan.FromSeconds(Math.Max(warmupSeconds, 40)), ct);
            ThrowIfLoopFailed(loops);
            endToEnd.Restart();
            lastDevice.Restart();
            sentLatency.Restart();
            long Sum(Func<ChatTraffic, long> counter) => traffic.Sum(counter);
            long delivered0 = Sum(t => Volatile.Read(ref t.Delivered)), sent0 = Sum(t => Volatile.Read(ref t.Sent));
            long? written0 = WrittenBytes(server.Pid);
            var counts0 = await ServerCounts.ReadAsync(server, ct);
            var cpu = CpuWindow.Start(server);

            await Task.Delay(TimeSpan.FromSeconds(measureSeconds), ct);

            cpu.Stop();
            var counts1 = await ServerCounts.ReadAsync(server, ct);
            long delivered = Sum(t => Volatile.Read(ref t.Delivered)) - delivered0;
            long sent = Sum(t => Volatile.Read(ref t.Sent)) - sent0;
            long? written = WrittenBytes(server.Pid) - written0;
            var lastWindow = lastDevice.Snapshot();
            var eachWindow = endToEnd.Snapshot();
            var sentWindow = sentLatency.Snapshot();
            ThrowIfLoopFailed(loops);

            loops.ForEach(l => l.StopSending());
            var drain = Stopwatch.StartNew();
            while (drain.Elapsed < TimeSpan.FromSeconds(15) && (Sum(t => Volatile.Read(ref t.InFlight)) > 0 || !pending.IsEmpty))
            {
                await Task.Delay(50, ct);
            }

            double seconds = cpu.Seconds;
            report.Row("groups × members", $"{groups} × {members} (one device each, all connected), {senders} senders per group");
            report.Row("offered", rate is double o ? $"{o:0} group msgs/s" : $"flat out, {window} group sends in flight per sender");
            report.Row("measured window", seconds, "0.0", $"s after {warmedUp.TotalSeconds:0} s warm-up");
            report.Row("group messages SENT", sent / seconds, "0.0", "msgs/s");
            report.Row("member deliveries (acked)", delivered / seconds, "0", "deliveries/s");
            report.Row("latency send → last member device", lastWindow.Summary());
            report.Row("latency send → each member device", eachWindow.Summary());
            report.Row("latency send → SENT", sentWindow.Summary());
            cpu.Report(report, delivered);
            // Counts per member delivery (RESULT per_delivery_…): they hold where CPU time on shared cores blurs.
            counts0.Report(counts1, report, delivered, "member delivery", "per_delivery_");
            if (written is long w && sent > 0)
            {
                report.Row("storage written per group message", (double)w / sent, "0",
                    $"bytes (/proc write_bytes; the body is {BodyBytes} bytes, {members - 1} recipient devices)");
            }
            report.Row("after stop", $"{pending.Count} group messages not yet at every member device, {Sum(t => Volatile.Read(ref t.InFlight))} sends unanswered (after {drain.Elapsed.TotalSeconds:0.0} s drain)");
            var errors = traffic.SelectMany(t => t.Errors).GroupBy(e => e.Key).Select(g => $"{g.Key}×{g.Sum(e => e.Value)}").ToList();
            report.Row("errors", errors.Count == 0 ? "none" : string.Join(", ", errors));

            report.Field("member_deliveries_per_s", delivered / seconds, "0");
            report.Field("p50_ms", lastWindow.Milliseconds(50), "0.00");
            report.Field("p99_ms", lastWindow.Milliseconds(99), "0.00");
            report.Field("p999_ms", lastWindow.Milliseconds(99.9), "0.00");
            if (cpu.ServerCpuMicroseconds is long serverCpu && delivered > 0)
            {
                report.Field("cpu_us_per_delivery", (double)serverCpu / delivered, "0.00");
            }
            if (written is long bytes && sent > 0)
            {
                report.Field("bytes_per_msg", (double)bytes / sent, "0");
            }
            return report;
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

    private static int Extra(BenchOptions options, string name, int fallback) =>
        options.Extra.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static void ThrowIfLoopFailed(List<DeviceLoop> loops)
    {
        if (loops.Select(l => l.Failure).FirstOrDefault(f => f is not null) is Exception failure)
        {
            throw new InvalidOperationException("a device loop failed", failure);
        }
    }

    /// <summary>A UUIDv7-shaped id, unique per sender device: ms timestamp, device, counter.</summary>
    private static byte[] MessageIdFor(long nowMs, uint device, ulong counter)
    {
        var id = new byte[WireLimits.MessageIdBytes];
        BinaryPrimitives.WriteInt64BigEndian(id, nowMs << 16);
        BinaryPrimitives.WriteUInt32BigEndian(id.AsSpan(8), device);
        BinaryPrimitives.WriteUInt32BigEndian(id.AsSpan(12), (uint)counter);
        id[6] = (byte)(0x70 | (id[6] & 0x0F));
        id[8] = (byte)(0x80 | (id[8] & 0x3F));
        return id;
    }

    /// <summary>Bytes the process has caused to be written to storage (/proc/PID/io write_bytes), or null where unreadable.</summary>
    internal static long? WrittenBytes(int? pid)
    {
        try
        {
            if (pid is int p)
            {
                foreach (var line in File.ReadLines($"/proc/{p}/io"))
                {
                    if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                    {
                        return long.Parse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
