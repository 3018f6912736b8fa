using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Parley.Server.Configuration;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on its own thread, every
/// <see cref="StorageOptions.CheckpointIntervalMs"/> (2 s), so the
/// group-commit writer never pays for a checkpoint inside a commit (its connection has automatic
/// checkpoints off). PASSIVE never blocks the writer or readers. After each pass the writer copies
/// what it appended meanwhile (see <see cref="SqliteDatabase.TakeWalBackfilled"/>), so the WAL
/// starts over instead of growing. A tick when nothing was committed since a pass that copied the
/// whole WAL does nothing: an idle server pays no checkpoint, and its writer no catch-up.
/// </summary>
public sealed class WalCheckpointer(SqliteDatabase database, TimeProvider time, ParleyOptions options) : BackgroundService
{
    private readonly TimeSpan _period = TimeSpan.FromMilliseconds(Math.Max(1, options.Storage.CheckpointIntervalMs));
    private int _ticks;
    private int _passes;

    /// <summary>Ticks of the timer so far (tests).</summary>
    internal int Ticks => Volatile.Read(ref _ticks);

    /// <summary>Ticks that ran a checkpoint (tests): the others found nothing new committed.</summary>
    internal int Passes => Volatile.Read(ref _passes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var connection = database.Open();
        using var version = connection.CreateCommand();
        // Changes whenever another connection commits (SQLite's data_version); checkpoints do not change it.
        version.CommandText = "PRAGMA data_version;";
        using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        long? copiedAt = null; // the data_version when a pass last copied the whole WAL
        using var timer = new PeriodicTimer(_period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Interlocked.Increment(ref _ticks);
                long now = (long)version.ExecuteScalar()!;
                if (now == copiedAt)
                {
                    continue;
                }
                copiedAt = Pass(checkpoint) ? now : null;
                Interlocked.Increment(ref _passes);
                database.OnWalBackfilled();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One PASSIVE checkpoint; true when it copied every frame of the WAL (no reader held one back).</summary>
    private static bool Pass(SqliteCommand checkpoint)
    {
        using var reader = checkpoint.ExecuteReader();
        // Columns: busy, frames in the WAL, frames copied back (-1, -1 when not in WAL mode).
        return reader.Read() && reader.GetInt64(0) == 0 && reader.GetInt64(1) == reader.GetInt64(2);
    }
}
