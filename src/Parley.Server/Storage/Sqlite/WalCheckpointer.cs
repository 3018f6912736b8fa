using Microsoft.Extensions.Hosting;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on its own thread, every half second, so the
/// group-commit writer never pays for a checkpoint inside a commit (its connection has automatic
/// checkpoints off). PASSIVE never blocks the writer or readers. After each pass the writer copies
/// what it appended meanwhile (see <see cref="SqliteDatabase.TakeWalBackfilled"/>), so the WAL
/// starts over instead of growing.
/// </summary>
public sealed class WalCheckpointer(SqliteDatabase database) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var connection = database.Open();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                SqliteDatabase.Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
                database.OnWalBackfilled();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
