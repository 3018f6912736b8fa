using Microsoft.Extensions.Time.Testing;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>The WAL checkpointer works only when something was committed since its last full pass.</summary>
public sealed class WalCheckpointerTests : IDisposable
{
    private readonly QueueStoreFolder _folder = new("parley-checkpointer-test-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_tick_with_nothing_committed_since_the_last_full_pass_runs_no_checkpoint()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        using (var setup = database.Open())
        {
            SqliteDatabase.Execute(setup, "CREATE TABLE t(x INTEGER);");
        }
        var time = new FakeTimeProvider();
        using var checkpointer = new WalCheckpointer(database, time, _folder.Options);
        await checkpointer.StartAsync(CancellationToken.None);
        try
        {
            using var writer = database.Open();
            SqliteDatabase.Execute(writer, "INSERT INTO t VALUES (1);");
            await TickAsync(checkpointer, time, 1);
            Assert.Equal(1, checkpointer.Passes); // a commit since the start: copied

            await TickAsync(checkpointer, time, 2);
            await TickAsync(checkpointer, time, 3);
            Assert.Equal(1, checkpointer.Passes); // nothing committed since: no checkpoint

            SqliteDatabase.Execute(writer, "INSERT INTO t VALUES (2);");
            await TickAsync(checkpointer, time, 4);
            Assert.Equal(2, checkpointer.Passes);
        }
        finally
        {
            await checkpointer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Passes_come_no_sooner_than_the_configured_interval()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        _folder.Options.Storage.CheckpointIntervalMs = 3000; // not the default: the setting, not a constant, sets it
        var time = new FakeTimeProvider();
        using var checkpointer = new WalCheckpointer(database, time, _folder.Options);
        await checkpointer.StartAsync(CancellationToken.None);
        try
        {
            // Steps of a quarter second until the first tick: a timer started late only adds steps.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            int steps = 0;
            while (checkpointer.Ticks == 0)
            {
                time.Advance(TimeSpan.FromMilliseconds(250));
                steps++;
                await Task.Delay(20, timeout.Token);
            }
            Assert.True(steps >= 12, $"the first pass came after {steps * 250} ms of a 3000 ms interval");
        }
        finally
        {
            await checkpointer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Moves the clock until the checkpointer has handled tick number <paramref name="tick"/>.</summary>
    private static async Task TickAsync(WalCheckpointer checkpointer, FakeTimeProvider time, int tick)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (checkpointer.Ticks < tick)
        {
            // The loop may not have started its timer yet: step until the tick is seen.
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(20, timeout.Token);
        }
    }
}
