using System.Globalization;
using System.Net;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// The hidden <c>connections-worker</c> verb: a child process that opens a slice of the idle
/// connections (so no process passes the per-process open-file cap), bound to its own loopback
/// source address, and holds them with the 25 s heartbeat Ping. It talks to the parent by lines:
/// it prints <c>PROGRESS</c>/<c>READY open= refused= failed=</c>, and answers the commands
/// <c>PING n</c>, <c>STATUS</c> and <c>QUIT</c> read from its standard input.
/// </summary>
internal static class ConnectionsWorker
{
    public const string Verb = "connections-worker";

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(25);

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        var server = options.Server ?? throw new ArgumentException("--server is required");
        var credentials = File.ReadLines(options.Extra["creds"])
            .Skip(int.Parse(options.Extra["from"], CultureInfo.InvariantCulture))
            .Take(int.Parse(options.Extra["count"], CultureInfo.InvariantCulture))
            .Select(line => line.Split('\t'))
            .Select(f => new DeviceCredentials(f[0], uint.Parse(f[1], CultureInfo.InvariantCulture), f[2]))
            .ToArray();
        var source = options.Extra.TryGetValue("source", out var s) ? IPAddress.Parse(s) : null;

        var open = new IdleDevice?[credentials.Length];
        int opened = 0, refused = 0, failed = 0;
        string? firstFailure = null;
        using var progress = new Timer(_ => Console.Out.WriteLine(Line("PROGRESS", opened, refused, failed)), null, 1000, 1000);
        await Parallel.ForAsync(0, credentials.Length, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (i, token) =>
        {
            try
            {
                open[i] = await IdleDevice.OpenAsync(server, source, credentials[i], token);
                Interlocked.Increment(ref opened);
            }
            catch (ServerFullException)
            {
                Interlocked.Increment(ref refused);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException or TimeoutException)
            {
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstFailure, ex.Message, null);
            }
        });
        await progress.DisposeAsync();
        Console.Out.WriteLine(Line("READY", opened, refused, failed) + (firstFailure is null ? "" : " first_failure=" + firstFailure.Replace(' ', '_')));

        var devices = open.OfType<IdleDevice>().ToArray();
        using var stopHeartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeat = HeartbeatAsync(devices, stopHeartbeat.Token);
        while (await Console.In.ReadLineAsync(ct) is { } command)
        {
            var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }
            if (parts[0] == "PING")
            {
                int n = int.Parse(parts[1], CultureInfo.InvariantCulture);
                var sample = devices.Where(d => d.IsOpen).Take(n).ToArray();
                var answers = await Task.WhenAll(sample.Select(d => d.PingAsync(TimeSpan.FromSeconds(10), ct)));
                Console.Out.WriteLine(FormattableString.Invariant($"PINGED ok={answers.Count(a => a)} of={sample.Length}"));
            }
            else if (parts[0] == "STATUS")
            {
                int stillOpen = devices.Count(d => d.IsOpen);
                Console.Out.WriteLine(FormattableString.Invariant($"STATUS open={stillOpen} closed={devices.Length - stillOpen}"));
            }
            else if (parts[0] == "QUIT")
            {
                break;
            }
        }
        await stopHeartbeat.CancelAsync();
        await heartbeat;
        await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (d, _) => await d.DisposeAsync());
        Console.Out.WriteLine("BYE");
        return 0;
    }

    private static string Line(string what, int opened, int refused, int failed) =>
        FormattableString.Invariant($"{what} open={opened} refused={refused} failed={failed}");

    private static async Task HeartbeatAsync(IdleDevice[] devices, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Heartbeat, stop);
                foreach (var device in devices)
                {
                    await device.SendPingAsync(stop);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }
}
