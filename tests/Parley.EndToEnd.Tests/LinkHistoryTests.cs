using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Client;
using Parley.Client.History;
using Parley.Client.Media;

namespace Parley.EndToEnd.Tests;

/// <summary>History for a newly linked device: sent by the approving device through the media store, stored once and in order.</summary>
public sealed class LinkHistoryTests
{
    /// <summary>The system clock moved by <see cref="Offset"/> (timers still run in real time).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    /// <summary>Collects reports synchronously, in order (System.Progress would post them to the thread pool).</summary>
    private sealed class Reports : IProgress<HistoryProgress>
    {
        public ConcurrentQueue<HistoryProgress> All { get; } = new();

        /// <summary>Runs after each report, on the reporting thread (so the import waits for it).</summary>
        public Action<HistoryProgress>? Then { get; init; }

        public void Report(HistoryProgress value)
        {
            All.Enqueue(value);
            Then?.Invoke(value);
        }
    }

    [Fact]
    public async Task History_arrives_once_in_order_with_its_ticks_and_leaves_out_what_is_older_than_the_window()
    {
        await using var server = await TestServer.StartAsync();
        var approverReports = new Reports();
        var aliceOptions = Wait.Options();
        aliceOptions.HistoryProgress = approverReports;
        var alice = await ParleyClient.RegisterAsync(server.NewProfileDir(), server.BaseUri, "alice", options: aliceOptions);
        var bobTime = new ShiftedTime();
        var bobOptions = Wait.Options();
        bobOptions.Time = bobTime;
        var bob = await ParleyClient.RegisterAsync(server.NewProfileDir(), server.BaseUri, "bob", options: bobOptions);
        await using var _ = alice;
        await using var __ = bob;

        // Written (by bob's clock) 31 days ago: outside the default 30-day window.
        bobTime.Offset = -TimeSpan.FromDays(31);
        await bob.SendTextAsync("alice", "too old", Wait.Token());
        bobTime.Offset = TimeSpan.Zero;
        var a1 = await alice.SendTextAsync("bob", "a1", Wait.Token());
        await bob.SendTextAsync("alice", "b1", Wait.Token());
        await alice.SyncAsync(Wait.Token()); // b1 stored before a2 is written
        var a2 = await alice.SendTextAsync("bob", "a2", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await bob.MarkReadAsync("alice", [a1], Wait.Token());
        await Wait.UntilAsync(() => alice.GetConversation("bob").Where(m => m.Direction == MessageDirection.Outgoing)
            .Select(m => m.Status).SequenceEqual([MessageStatus.Read, MessageStatus.Delivered]), "alice sees a1 read and a2 delivered");
        Assert.Equal(["a1", "too old", "b1", "a2"], alice.GetConversation("bob").Select(m => m.Text));

        var newDeviceReports = new Reports();
        var laptopOptions = Wait.Options();
        laptopOptions.HistoryProgress = newDeviceReports;
        var request = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "laptop", laptopOptions, Wait.Token());
        Assert.Equal(2u, await alice.ApproveLinkAsync(request.Code, Wait.Token()));
        await using var laptop = await request.Linked.WaitAsync(Wait.Limit);

        // Stored before the first connect, in alice's order, with alice's ticks; the old one left out.
        var history = laptop.GetConversation("bob");
        Assert.Equal(
            new[] { ("a1", MessageDirection.Outgoing, MessageStatus.Read, "alice"), ("b1", MessageDirection.Incoming, MessageStatus.Delivered, "bob"),
             ("a2", MessageDirection.Outgoing, MessageStatus.Delivered, "alice") },
            history.Select(m => (m.Text, m.Direction, m.Status, m.Sender)));
        Assert.Equal([a1, a2], history.Where(m => m.Direction == MessageDirection.Outgoing).Select(m => m.Id));
        Assert.Equal(alice.GetConversation("bob").Where(m => m.Text != "too old").Select(m => m.SentAt), history.Select(m => m.SentAt));

        // Both sides reported progress to the end.
        Assert.Equal((TransferDirection.Upload, 1, 1, 3, true), Last(approverReports));
        Assert.Equal((TransferDirection.Download, 1, 1, 3, true), Last(newDeviceReports));
        Assert.All(newDeviceReports.All, r => Assert.Null(r.Failure));

        // Live messages come after the history; a redelivered or repeated message is stored once.
        var inbox = new Inbox(laptop);
        await bob.SendTextAsync("alice", "b2", Wait.Token());
        await laptop.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);
        Assert.Equal(["a1", "b1", "a2", "b2"], laptop.GetConversation("bob").Select(m => m.Text));
        Assert.Equal(["a1", "b1", "a2", "b2"], laptop.TakeUnshownMessages().Select(m => m.Text));
        Assert.Empty(laptop.TakeUnshownMessages());
    }

    [Fact]
    public async Task Over_the_cli_history_is_printed_once_in_order_and_history_days_zero_sends_none()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var phoneDir = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", phoneDir)).ExitCode);
        var bob = await server.RegisterAsync("bob");
        await bob.SendTextAsync("alice", "hello alice", Wait.Token());
        Assert.Equal(0, (await Cli.RunAsync("receive", "--profile", phoneDir)).ExitCode);
        var sent = await Cli.RunAsync("send", "bob", "hello bob", "--profile", phoneDir, "--json");
        Assert.Equal(0, sent.ExitCode);
        var sentId = sent.Single.GetProperty("id").GetString();

        var (approve, laptopDir) = await LinkOverCliAsync(server, phoneDir, "laptop");
        Assert.Contains("history: sent 2 messages", approve.Error, StringComparison.Ordinal);
        var first = await Cli.RunAsync("receive", "--profile", laptopDir, "--json");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(
            new (string?, string?, string?)[] { ("hello alice", "incoming", "bob"), ("hello bob", "outgoing", "alice") },
            first.Json.Select(j => (j.GetProperty("text").GetString(), j.GetProperty("direction").GetString(), j.GetProperty("from").GetString())));
        Assert.Equal(sentId, first.Json[1].GetProperty("id").GetString());
        Assert.Empty((await Cli.RunAsync("receive", "--profile", laptopDir, "--json")).Lines);

        var (none, tabletDir) = await LinkOverCliAsync(server, phoneDir, "tablet", "--history-days", "0");
        Assert.Contains("history: no messages to send", none.Error, StringComparison.Ordinal);
        await bob.SendTextAsync("alice", "after the tablet", Wait.Token());
        var tablet = await Cli.RunAsync("receive", "--profile", tabletDir, "--json");
        Assert.Equal(["after the tablet"], tablet.Json.Select(j => j.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task History_cut_short_by_a_killed_server_is_resumed_on_the_next_start_and_arrives_once_in_order_before_what_came_live()
    {
        await WithServerProcessAsync(async (server, root) =>
        {
            var (laptopDir, expected, linkReports) = await LinkWhileTheServerDiesAfterTheFirstChunkAsync(server, root);
            var firstChunk = linkReports.All.First(r => r.ChunksDone == 1 && r.Failure is null).MessagesDone;
            Assert.Contains(linkReports.All, r => r.Failure?.Contains("next connect", StringComparison.Ordinal) == true);

            // Once the server is back, bob writes again: queued for the laptop, which is away.
            await server.RestartAsync();
            string live;
            await using (var bob = ParleyClient.Open(Path.Combine(root, "bob"), Wait.Options()))
            {
                live = await bob.SendTextAsync("alice", "while the laptop was away", Wait.Token());
            }

            // The app starts again: the rest of the history comes in the background, and the queued
            // message is stored after it, where it belongs, although it reaches the laptop first.
            var reports = new Reports();
            var options = Wait.Options();
            options.HistoryProgress = reports;
            await using var laptop = ParleyClient.Open(laptopDir, options);
            Assert.Equal(expected.Take(firstChunk).Select(m => m.Id), laptop.GetConversation("bob", 100).Select(m => m.Id));
            // SyncAsync returns with the rest of the history stored (parley receive relies on it).
            await laptop.SyncAsync(Wait.Token());
            Assert.Contains(reports.All, r => r.Done);
            var history = laptop.GetConversation("bob", 100);
            Assert.Equal([.. expected.Select(m => (m.Id, m.Text, m.Sender)), (live, "while the laptop was away", "bob")],
                history.Select(m => (m.Id, m.Text, m.Sender)));
            Assert.Equal((1, 3, firstChunk), (reports.All.First().ChunksDone, reports.All.First().Chunks, reports.All.First().MessagesDone));
            Assert.Equal((TransferDirection.Download, 3, 3, expected.Count, true), Last(reports));
            Assert.All(reports.All, r => Assert.Null(r.Failure));
            Assert.Null(laptop.Store.PendingHistory());
        });
    }

    [Fact]
    public async Task History_chunks_gone_from_the_server_are_dropped_with_a_report_and_not_tried_again()
    {
        await WithServerProcessAsync(async (server, root) =>
        {
            var (laptopDir, expected, linkReports) = await LinkWhileTheServerDiesAfterTheFirstChunkAsync(server, root);
            var firstChunk = linkReports.All.First(r => r.ChunksDone == 1 && r.Failure is null).MessagesDone;

            // The blobs of the chunks not yet fetched expire while the server is away.
            foreach (var blob in Directory.GetFiles(Path.Combine(server.DataDir, "media")))
            {
                File.Delete(blob);
            }
            await server.RestartAsync();
            var reports = new Reports();
            var options = Wait.Options();
            options.HistoryProgress = reports;
            await using (var laptop = ParleyClient.Open(laptopDir, options))
            {
                // SyncAsync returns once this connect's try at the history has ended.
                await laptop.SyncAsync(Wait.Token());
                Assert.Equal(2, reports.All.Count(r => r.Failure?.Contains("dropped", StringComparison.Ordinal) == true));
                Assert.Equal((TransferDirection.Download, 3, 3, firstChunk, true), Last(reports));
                Assert.Equal(expected.Take(firstChunk).Select(m => m.Id), laptop.GetConversation("bob", 100).Select(m => m.Id));
                Assert.Null(laptop.Store.PendingHistory());
            }

            // Nothing left to try on the next start.
            var again = new Reports();
            var againOptions = Wait.Options();
            againOptions.HistoryProgress = again;
            await using var restarted = ParleyClient.Open(laptopDir, againOptions);
            await restarted.SyncAsync(Wait.Token());
            Assert.Empty(again.All);
        });
    }

    [Fact]
    public async Task Sync_returns_with_the_pending_history_stored_even_when_nothing_is_queued_for_the_device()
    {
        var gate = new MediaGate();
        await using var server = await TestServer.StartAsync(services: gate.Install);
        var (laptopDir, expected, _) = await LinkWhileMediaDownloadsAreRefusedAsync(server, gate);

        // A first start while downloads are still refused: the device list notice the link queued is
        // taken, the history stays pending.
        await using (var first = ParleyClient.Open(laptopDir, Wait.Options()))
        {
            await first.SyncAsync(Wait.Token());
            Assert.NotNull(first.Store.PendingHistory());
            await Wait.UntilAsync(() => server.QueuedFor(first) == 0, "the laptop's queue empty");
        }

        // The next start's try at the history is held at its first report until the test lets it go.
        gate.Downloads = MediaGate.Mode.Pass;
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reports = new Reports
        {
            Then = _ =>
            {
                if (held.TrySetResult())
                {
                    release.Task.Wait(Wait.Limit);
                }
            },
        };
        var options = Wait.Options();
        options.HistoryProgress = reports;
        await using var laptop = ParleyClient.Open(laptopDir, options);
        try
        {
            // Nothing for the laptop on the server: only the history can keep SyncAsync from returning.
            Assert.Equal(0, server.QueuedFor(laptop));
            var sync = laptop.SyncAsync(Wait.Token());
            await held.Task.WaitAsync(Wait.Limit);
            // Nothing signals an early return, so this looks for one for a moment only.
            Assert.NotSame(sync, await Task.WhenAny(sync, Task.Delay(TimeSpan.FromMilliseconds(500))));
            release.SetResult();
            await sync;
            Assert.Equal(expected.Select(m => (m.Id, m.Text)), laptop.GetConversation("bob").Select(m => (m.Id, m.Text)));
            Assert.Null(laptop.Store.PendingHistory());
            Assert.Equal((TransferDirection.Download, 1, 1, expected.Count, true), Last(reports));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_stalled_history_download_stops_holding_live_messages_once_its_connection_ends()
    {
        var gate = new MediaGate();
        await using var server = await TestServer.StartAsync(services: gate.Install);
        var (laptopDir, expected, bob) = await LinkWhileMediaDownloadsAreRefusedAsync(server, gate);
        var reports = new Reports();
        var options = Wait.Options();
        options.HistoryProgress = reports;
        await using var laptop = ParleyClient.Open(laptopDir, options);
        var live = await bob.SendTextAsync("alice", "live", Wait.Token());

        // The first connection's try at the history stalls, and the live message waits behind it.
        gate.Downloads = MediaGate.Mode.Stall;
        await laptop.ConnectAsync(Wait.Token());
        await gate.StalledAsync(1);
        // Nothing signals that the message came and was held, so this looks for a moment only.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Empty(laptop.GetConversation("bob"));

        // That connection ends with its download still stalled; the next one has its own try (the
        // downloads pass again), and the live message is stored after the history.
        gate.Downloads = MediaGate.Mode.Pass;
        laptop.Testing.DropConnection();
        await Wait.UntilAsync(() => laptop.GetConversation("bob").Any(m => m.Id == live), "the live message stored");
        Assert.Equal([.. expected.Select(m => m.Id), live], laptop.GetConversation("bob").Select(m => m.Id));
        Assert.Null(laptop.Store.PendingHistory());
        Assert.Equal((TransferDirection.Download, 1, 1, expected.Count, true), Last(reports));
        Assert.All(reports.All, r => Assert.Null(r.Failure));
        await Wait.UntilAsync(() => gate.GivenUp == 1, "the stalled download given up by the client");
    }

    [Fact]
    public async Task A_history_download_cut_off_with_its_connection_goes_on_from_where_it_stopped_on_the_next()
    {
        var gate = new MediaGate();
        await using var server = await TestServer.StartAsync(services: gate.Install);
        var (laptopDir, expected, _) = await LinkWhileMediaDownloadsAreRefusedAsync(server, gate);
        await using var laptop = ParleyClient.Open(laptopDir, Wait.Options());

        // The first bytes of the chunk come, then the path goes dead, and the connection ends.
        gate.StallAfterBytes = 100;
        gate.Downloads = MediaGate.Mode.StallPartway;
        await laptop.ConnectAsync(Wait.Token());
        await gate.StalledAsync(1);
        var transfers = Path.Combine(laptopDir, "media", ".transfers");
        await Wait.UntilAsync(() => Directory.EnumerateFiles(transfers, "*.history").Any(f => new FileInfo(f).Length > 0), "the first bytes stored");
        int before = gate.Ranges.Count;
        gate.Downloads = MediaGate.Mode.Pass;
        laptop.Testing.DropConnection();

        // The next connection asks only for the rest, and the chunk checks out whole.
        await Wait.UntilAsync(() => laptop.Store.PendingHistory() is null, "the history imported");
        Assert.Equal(expected.Select(m => m.Id), laptop.GetConversation("bob").Select(m => m.Id));
        var resumed = gate.Ranges.Skip(before).First();
        Assert.Matches(@"^bytes=[1-9][0-9]*-$", resumed);
        Assert.Empty(Directory.EnumerateFiles(transfers, "*.history"));
    }

    [Fact]
    public async Task History_imported_late_is_shown_before_what_the_new_device_sent_and_received_meanwhile()
    {
        var gate = new MediaGate();
        await using var server = await TestServer.StartAsync(services: gate.Install);
        var (laptopDir, expected, bob) = await LinkWhileMediaDownloadsAreRefusedAsync(server, gate);

        // Downloads still refused: this connect's try fails, and the laptop writes and gets a message
        // while its history is pending.
        await using var laptop = ParleyClient.Open(laptopDir, Wait.Options());
        await laptop.SyncAsync(Wait.Token());
        Assert.NotNull(laptop.Store.PendingHistory());
        var mine = await laptop.SendTextAsync("bob", "from the laptop", Wait.Token());
        var theirs = await bob.SendTextAsync("alice", "to alice's devices", Wait.Token());
        await laptop.SyncAsync(Wait.Token());
        Assert.Equal([mine, theirs], laptop.GetConversation("bob").Select(m => m.Id));

        // The next connect imports the history: it goes above both, where it belongs.
        gate.Downloads = MediaGate.Mode.Pass;
        laptop.Testing.DropConnection();
        await Wait.UntilAsync(() => laptop.Store.PendingHistory() is null, "the history imported");
        Assert.Equal([.. expected.Select(m => m.Id), mine, theirs], laptop.GetConversation("bob").Select(m => m.Id));
    }

    /// <summary>
    /// Registers alice and bob on <paramref name="server"/>, writes 40 long messages between them
    /// (three chunks of history), and links a laptop to alice's account; the server is killed as soon
    /// as the laptop has stored the first chunk, so the link ends with the rest of the history
    /// pending. Returns the laptop's profile (its client closed), alice's conversation with bob, and
    /// the laptop's reports during the link.
    /// </summary>
    private static async Task<(string LaptopDir, IReadOnlyList<StoredMessage> Expected, Reports Reports)> LinkWhileTheServerDiesAfterTheFirstChunkAsync(
        ServerProcess server, string root)
    {
        await using var alice = await ParleyClient.RegisterAsync(Path.Combine(root, "alice"), server.BaseUri, "alice", options: Wait.Options());
        await using var bob = await ParleyClient.RegisterAsync(Path.Combine(root, "bob"), server.BaseUri, "bob", options: Wait.Options());
        for (var i = 0; i < 40; i++)
        {
            // 60,000 characters each: about 17 to a 1 MiB chunk.
            var text = $"{i:D2} " + new string((char)('a' + i % 26), 60_000);
            if (i % 5 == 4)
            {
                await bob.SendTextAsync("alice", text, Wait.Token());
                await alice.SyncAsync(Wait.Token()); // stored before alice's next one is written
            }
            else
            {
                await alice.SendTextAsync("bob", text, Wait.Token());
            }
        }
        var expected = alice.GetConversation("bob", 100);
        Assert.Equal(40, expected.Count);

        var reports = new Reports
        {
            Then = r =>
            {
                if (r is { ChunksDone: 1, Failure: null })
                {
                    server.KillAsync().GetAwaiter().GetResult();
                }
            },
        };
        var options = Wait.Options();
        options.HistoryProgress = reports;
        var laptopDir = Path.Combine(root, "laptop");
        var request = await ParleyClient.RequestLinkAsync(laptopDir, server.BaseUri, "laptop", options, Wait.Token());
        var approved = alice.ApproveLinkAsync(request.Code, Wait.Token());
        // The link stands although most of its history could not be fetched.
        await using (var laptop = await request.Linked.WaitAsync(Wait.Limit))
        {
            Assert.Equal(2u, await approved);
            Assert.Equal(3, reports.All.First().Chunks);
            Assert.Equal(2, laptop.Store.PendingHistory()?.Chunks.Count);
        }
        return (laptopDir, expected, reports);
    }

    /// <summary>
    /// Registers alice and bob on <paramref name="server"/>, writes a few messages between them (one
    /// chunk of history), and links a laptop to alice's account while <paramref name="gate"/> refuses
    /// downloads, so the link stands with all its history pending. Returns the laptop's profile (its
    /// client closed), alice's conversation with bob, and bob's client. Downloads stay refused.
    /// </summary>
    private static async Task<(string LaptopDir, IReadOnlyList<StoredMessage> Expected, ParleyClient Bob)> LinkWhileMediaDownloadsAreRefusedAsync(
        TestServer server, MediaGate gate)
    {
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await alice.SendTextAsync("bob", "a1", Wait.Token());
        await bob.SendTextAsync("alice", "b1", Wait.Token());
        await alice.SyncAsync(Wait.Token()); // b1 stored before a2 is written
        await alice.SendTextAsync("bob", "a2", Wait.Token());
        var expected = alice.GetConversation("bob");
        Assert.Equal(["a1", "b1", "a2"], expected.Select(m => m.Text));

        gate.Downloads = MediaGate.Mode.Refuse;
        var reports = new Reports();
        var options = Wait.Options();
        options.HistoryProgress = reports;
        var laptopDir = server.NewProfileDir();
        var request = await ParleyClient.RequestLinkAsync(laptopDir, server.BaseUri, "laptop", options, Wait.Token());
        Assert.Equal(2u, await alice.ApproveLinkAsync(request.Code, Wait.Token()));
        await using (var laptop = await request.Linked.WaitAsync(Wait.Limit))
        {
            Assert.Contains(reports.All, r => r.Failure?.Contains("next connect", StringComparison.Ordinal) == true);
            Assert.Empty(laptop.GetConversation("bob"));
            Assert.Equal(1, laptop.Store.PendingHistory()?.Chunks.Count);
        }
        return (laptopDir, expected, bob);
    }

    /// <summary>Runs <paramref name="test"/> with a server process on a data folder under a fresh temp folder, deleted after.</summary>
    private static async Task WithServerProcessAsync(Func<ServerProcess, string, Task> test)
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-history-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"));
            await test(server, root);
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
    }

    /// <summary>Links a new CLI profile named <paramref name="deviceName"/> to the account of <paramref name="phoneDir"/>; returns the approve run and the new profile.</summary>
    internal static async Task<(Cli.Run Approve, string Profile)> LinkOverCliAsync(TestServer server, string phoneDir, string deviceName, params string[] approveOptions)
    {
        var dir = server.NewProfileDir();
        using var request = Cli.Start("link", "request", "--server", server.BaseUri.ToString(), "--device-name", deviceName, "--profile", dir, "--json");
        var code = JsonDocument.Parse((await request.StandardOutput.ReadLineAsync().WaitAsync(Wait.Limit))!).RootElement.GetProperty("link_code").GetString()!;
        var approve = await Cli.RunAsync(["link", "approve", code, "--yes", "--profile", phoneDir, "--json", .. approveOptions]);
        if (approve.ExitCode != 0)
        {
            request.Kill();
            Assert.Fail($"link approve failed ({approve.ExitCode}): {string.Join('\n', approve.Lines)} {approve.Error}");
        }
        var done = await Cli.FinishAsync(request);
        Assert.Equal(0, done.ExitCode);
        return (approve, dir);
    }

    private static (TransferDirection, int, int, int, bool) Last(Reports reports)
    {
        var last = reports.All.Last();
        return (last.Direction, last.ChunksDone, last.Chunks, last.MessagesDone, last.Done);
    }
}
