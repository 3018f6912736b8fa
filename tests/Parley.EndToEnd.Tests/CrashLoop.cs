using Parley.Client;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Steady two-way traffic between three SDK clients while the server process is SIGKILLed at
/// random moments and restarted on the same data folder and port; afterwards every client
/// syncs and <see cref="ExactlyOnceChecker"/> judges what was shown. Random but seeded: the
/// kill moments repeat for a seed (what was in flight at each kill does not).
/// </summary>
public static class CrashLoop
{
    private static readonly string[] Users = ["alice", "bob", "carol"];

    /// <summary>Sends waiting for SENT, per sender; a bound so that a down server does not pile up unbounded work.</summary>
    private const int MaxOutstanding = 16;

    public static async Task<CrashLoopResult> RunAsync(int kills, int seed, Action<string>? log = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-crashloop-" + Guid.NewGuid().ToString("N"));
        var random = new Random(seed);
        var checker = new ExactlyOnceChecker();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int inFlightAtKills = 0;
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"));
            var clients = new List<ParleyClient>();
            try
            {
                foreach (var user in Users)
                {
                    var client = await ParleyClient.RegisterAsync(Path.Combine(root, user), server.BaseUri, user, options: Wait.Options());
                    client.MessageReceived += (_, e) => checker.Shown(user, e.Message.Id, e.Message.Text);
                    clients.Add(client);
                }
                using var stop = new CancellationTokenSource();
                var outstanding = new int[Users.Length];
                var senders = Enumerable.Range(0, Users.Length)
                    .Select(i => SendLoopAsync(clients[i], i, checker, outstanding, seed + i, stop.Token))
                    .ToArray();

                for (int k = 1; k <= kills; k++)
                {
                    await Task.Delay(random.Next(100, 1500));
                    inFlightAtKills += Enumerable.Range(0, Users.Length).Sum(i => Volatile.Read(ref outstanding[i]));
                    await server.KillAsync();
                    await Task.Delay(random.Next(0, 300)); // down for a moment: sends queue in the outboxes
                    await server.RestartAsync();
                    if (k % 10 == 0)
                    {
                        log?.Invoke($"{k} kills, {checker.WrittenCount} written, {checker.AcknowledgedCount} SENT, {checker.ShownCount} shown");
                    }
                }
                await Task.Delay(500);
                await stop.CancelAsync();
                await Task.WhenAll(senders);

                // Drain: every outbox empties (all written messages get SENT), then every client syncs.
                await Wait.UntilAsync(() => clients.All(c => c.PendingSends == 0), "outboxes to drain");
                await Wait.UntilAsync(() => checker.AcknowledgedCount == checker.WrittenCount,
                    $"every send to complete ({checker.AcknowledgedCount}/{checker.WrittenCount})");
                foreach (var client in clients)
                {
                    await client.SyncAsync(Wait.Token());
                }
                await Wait.UntilAsync(() => checker.ShownCount >= checker.AcknowledgedCount || checker.Problems().Count > 0,
                    $"every SENT message to be shown ({checker.ShownCount}/{checker.AcknowledgedCount})");
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return new CrashLoopResult(kills, checker.WrittenCount, checker.AcknowledgedCount, checker.ShownCount, inFlightAtKills, clock.Elapsed, checker.Problems());
    }

    /// <summary>One user's traffic: a message to each other user in turn, every few milliseconds, without waiting for SENT.</summary>
    private static async Task SendLoopAsync(ParleyClient client, int me, ExactlyOnceChecker checker, int[] outstanding, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var seqs = new int[Users.Length];
        var sends = new List<Task>();
        int turn = 0;
        while (!stop.IsCancellationRequested)
        {
            sends.RemoveAll(t => t.IsCompleted);
            if (sends.Count >= MaxOutstanding)
            {
                await Task.WhenAny(sends);
                continue;
            }
            int to = (me + 1 + (turn++ % (Users.Length - 1))) % Users.Length;
            var text = ExactlyOnceChecker.Text(Users[me], Users[to], ++seqs[to]);
            checker.Written(text);
            Interlocked.Increment(ref outstanding[me]);
            sends.Add(SendAsync(client, Users[to], text, checker, outstanding, me));
            await Task.Delay(random.Next(5, 40), CancellationToken.None);
        }
        await Task.WhenAll(sends);
    }

    private static async Task SendAsync(ParleyClient client, string to, string text, ExactlyOnceChecker checker, int[] outstanding, int me)
    {
        try
        {
            // Durable in the outbox before the first await; completes when SENT, across reconnects.
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await client.SendTextAsync(to, text, patience.Token);
            checker.Acknowledged(text);
        }
        finally
        {
            Interlocked.Decrement(ref outstanding[me]);
        }
    }
}
