using System.Diagnostics;
using Google.Protobuf;
using Parley.Bench.Hosting;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// A queues K messages for B while B is offline (pipelined sends); then B connects and drains:
/// measured from Hello to QueueEmpty with every envelope acked (one Ack per 100 envelopes).
/// </summary>
internal static class OfflineDrainScenario
{
    private const int AckBatch = 100;

    public static async Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct)
    {
        int messages = Math.Max(1, options.Messages ?? 100_000);
        int window = options.Window ?? 256;
        var report = new ResultReport("offline-drain");

        DeviceCredentials[] users;
        using (var registrar = new Registrar(server.BaseUri))
        {
            users = await registrar.RegisterAsync(Registrar.NewRunPrefix(), 4, 4, ct);
        }

        // A smaller unmeasured round first, so the drain path is compiled before it is timed.
        int warmup = Math.Clamp(messages / 20, 500, 5000);
        await FillAsync(server.BaseUri, users[2], users[3], warmup, window, ct);
        await DrainAsync(server.BaseUri, users[3], ct);
        await server.WarmUpAsync(TimeSpan.Zero, TimeSpan.FromSeconds(20), ct);

        var (sender, recipient) = (users[0], users[1]);

        var fillCpu = CpuWindow.Start(server);
        var (sentOk, fillErrors) = await FillAsync(server.BaseUri, sender, recipient, messages, window, ct);
        fillCpu.Stop();
        Console.Error.WriteLine($"queued {sentOk} messages in {fillCpu.Seconds:0.0} s ({sentOk / fillCpu.Seconds:0}/s)");
        await Task.Delay(500, ct); // let the server finish the sender's disconnect before measuring

        var rss0 = server.RssBytes();
        var drainCpu = CpuWindow.Start(server);
        var drain = await DrainAsync(server.BaseUri, recipient, ct);
        drainCpu.Stop();
        var rss1 = server.RssBytes();

        double rate = drain.Received / drain.AllAcked.TotalSeconds;
        report.Row("messages queued (SENT)", $"{sentOk} of {messages}, {fillErrors} errors");
        report.Row("queue fill", sentOk / fillCpu.Seconds, "0", $"msgs/s (pipelined, {window} in flight)");
        if (fillCpu.ServerCpuMicroseconds is long fillServerCpu && sentOk > 0)
        {
            report.Row("queue fill server CPU per message", (double)fillServerCpu / sentOk, "0.0", "µs");
        }
        report.Row("drained", $"{drain.Received} envelopes ({drain.OutOfOrder} out of order, {drain.Duplicates} repeated)");
        report.Row("Hello → Welcome", drain.Welcome.TotalMilliseconds, "0.0", "ms");
        report.Row("Hello → QueueEmpty", drain.QueueEmpty.TotalSeconds, "0.000", "s");
        report.Row("Hello → all acked", drain.AllAcked.TotalSeconds, "0.000", "s");
        report.Row("drain rate", rate, "0", "msgs/s");
        drainCpu.Report(report, drain.Received);
        if (rss0 is long a && rss1 is long b)
        {
            report.Row("server RSS", $"{a / 1048576.0:0} → {b / 1048576.0:0} MiB");
        }

        report.Field("msgs_per_s", rate, "0");
        if (drainCpu.ServerCpuMicroseconds is long cpu && drain.Received > 0)
        {
            report.Field("cpu_us_per_msg", (double)cpu / drain.Received, "0.0");
        }
        return report;
    }

    private static async Task<(long Sent, long Errors)> FillAsync(Uri server, DeviceCredentials from, DeviceCredentials to, int messages, int window, CancellationToken ct)
    {
        await using var connection = await WireConnection.ConnectAsync(server, null, 16 * 1024, ct);
        await connection.HelloAsync(from, ct);
        using var slots = new SemaphoreSlim(window, window);
        long sent = 0, errors = 0, answered = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receive = Task.Run(async () =>
        {
            while (await connection.ReceiveAsync(ct) is { } frame)
            {
                if (frame.BodyCase is ServerFrame.BodyOneofCase.SendResult or ServerFrame.BodyOneofCase.Error)
                {
                    if (frame.BodyCase == ServerFrame.BodyOneofCase.SendResult)
                    {
                        sent++;
                    }
                    else
                    {
                        errors++;
                        if (errors == 1)
                        {
                            Console.Error.WriteLine($"send failed: {frame.Error.Code} {frame.Error.Message}");
                        }
                    }
                    slots.Release();
                    if (++answered == messages)
                    {
                        done.TrySetResult();
                        return;
                    }
                }
            }
            done.TrySetException(new IOException($"connection closed while queueing: {(int?)connection.CloseStatus} {connection.CloseDescription}"));
        }, ct);

        var payload = new byte[ChatDevice.PayloadBytes];
        Random.Shared.NextBytes(payload);
        var devicePayload = new DevicePayload { User = to.User, DeviceId = to.DeviceId, Payload = UnsafeByteOperations.UnsafeWrap(payload) };
        var frame = new ClientFrame { Send = new SendMessage { Recipient = to.User, Kind = EnvelopeKind.Message } };
        frame.Send.Payloads.Add(devicePayload);
        for (int i = 0; i < messages; i++)
        {
            await slots.WaitAsync(ct);
            frame.RequestId = connection.NextRequestId();
            frame.Send.MessageId = UnsafeByteOperations.UnsafeWrap(MessageId.New());
            frame.Send.SentAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await connection.SendAsync(frame, ct);
        }
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5), ct);
        await receive;
        return (sent, errors);
    }

    private sealed record DrainResult(long Received, long OutOfOrder, long Duplicates, TimeSpan Welcome, TimeSpan QueueEmpty, TimeSpan AllAcked);

    private static async Task<DrainResult> DrainAsync(Uri server, DeviceCredentials device, CancellationToken ct)
    {
        await using var connection = await WireConnection.ConnectAsync(server, null, 64 * 1024, ct);
        var clock = Stopwatch.StartNew();
        await connection.HelloAsync(device, ct);
        var welcome = clock.Elapsed;
        var queueEmpty = TimeSpan.Zero;
        long received = 0, acked = 0, outOfOrder = 0, duplicates = 0;
        ulong lastSeq = 0;
        var seen = new HashSet<ByteString>();
        var ack = new ClientFrame { Ack = new Ack() };
        bool emptySeen = false;

        async ValueTask FlushAsync()
        {
            if (ack.Ack.Seqs.Count == 0)
            {
                return;
            }
            ack.RequestId = connection.NextRequestId();
            await connection.SendAsync(ack, ct);
            ack.Ack.Seqs.Clear();
        }

        while (!(emptySeen && acked >= received))
        {
            var frame = await connection.ReceiveAsync(ct)
                ?? throw new IOException($"closed while draining: {(int?)connection.CloseStatus} {connection.CloseDescription}");
            switch (frame.BodyCase)
            {
                case ServerFrame.BodyOneofCase.Envelope:
                    var envelope = frame.Envelope;
                    received++;
                    if (envelope.Seq <= lastSeq)
                    {
                        outOfOrder++;
                    }
                    lastSeq = envelope.Seq;
                    if (!seen.Add(envelope.MessageId))
                    {
                        duplicates++;
                    }
                    ack.Ack.Seqs.Add(envelope.Seq);
                    if (ack.Ack.Seqs.Count >= AckBatch)
                    {
                        await FlushAsync();
                    }
                    break;
                case ServerFrame.BodyOneofCase.QueueEmpty:
                    queueEmpty = clock.Elapsed;
                    emptySeen = true;
                    await FlushAsync();
                    break;
                case ServerFrame.BodyOneofCase.AckResult:
                    acked += frame.AckResult.Acked + frame.AckResult.UnknownSeqs.Count;
                    break;
                case ServerFrame.BodyOneofCase.Error:
                    throw new IOException($"error while draining: {frame.Error.Code} {frame.Error.Message}");
                default:
                    break;
            }
        }
        return new DrainResult(received, outOfOrder, duplicates, welcome, queueEmpty, clock.Elapsed);
    }
}
