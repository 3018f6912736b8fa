using System.Globalization;
using Parley.Client.History;

namespace Parley.Client.Storage;

// The history a linked device gets, read from SQLite, and on the new device the part of it still to
// import (see IHistoryStore): one row per pending chunk, the bundle's counts in config.
internal sealed partial class ClientStore
{
    private const string HistoryChunksKey = "pending_history_chunks";
    private const string HistoryMessagesKey = "pending_history_messages";
    private const string HistoryMessagesDoneKey = "pending_history_messages_done";

    // IF NOT EXISTS: a database from before resumable history gains the table on its next open.
    private void CreateHistoryTables() => Execute("""
        CREATE TABLE IF NOT EXISTS pending_history (number INTEGER PRIMARY KEY, pointer BLOB NOT NULL);
        """);

    public IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom)
    {
        lock (_gate)
        {
            return Query(null, "SELECT * FROM messages WHERE sent_at >= $from ORDER BY local_order", ("$from", sentAtFrom));
        }
    }

    public void SavePendingHistory(IReadOnlyList<byte[]> chunks, int messages)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "DELETE FROM pending_history");
            for (var i = 0; i < chunks.Count; i++)
            {
                Execute(tx, "INSERT INTO pending_history (number, pointer) VALUES ($number, $pointer)", ("$number", i + 1), ("$pointer", chunks[i]));
            }
            SetConfig(tx, HistoryChunksKey, chunks.Count.ToString(CultureInfo.InvariantCulture));
            SetConfig(tx, HistoryMessagesKey, messages.ToString(CultureInfo.InvariantCulture));
            SetConfig(tx, HistoryMessagesDoneKey, "0");
            tx.Commit();
        }
    }

    public PendingHistory? PendingHistory()
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT number, pointer FROM pending_history ORDER BY number";
            var chunks = new List<PendingHistoryChunk>();
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    chunks.Add(new PendingHistoryChunk(r.GetInt32(0), (byte[])r[1]));
                }
            }
            return chunks.Count == 0 ? null
                : new PendingHistory(chunks, ConfigNumber(HistoryChunksKey), ConfigNumber(HistoryMessagesKey), ConfigNumber(HistoryMessagesDoneKey));
        }
    }

    public void CompletePendingHistoryChunk(int number, int messages)
    {
        lock (_gate)
        {
            // A savepoint, not a transaction: it nests inside Atomically's and stands alone outside one.
            Execute(null, "SAVEPOINT pending_history_chunk");
            try
            {
                if (Execute(null, "DELETE FROM pending_history WHERE number = $number", ("$number", number)) > 0)
                {
                    Execute(null, "UPDATE config SET value = CAST(CAST(value AS INTEGER) + $messages AS TEXT) WHERE key = $key",
                        ("$messages", messages), ("$key", HistoryMessagesDoneKey));
                    if (Scalar("SELECT 1 FROM pending_history LIMIT 1") is null)
                    {
                        Execute(null, "DELETE FROM config WHERE key IN ($chunks, $messages, $done)",
                            ("$chunks", HistoryChunksKey), ("$messages", HistoryMessagesKey), ("$done", HistoryMessagesDoneKey));
                    }
                }
                Execute(null, "RELEASE pending_history_chunk");
            }
            catch
            {
                Execute(null, "ROLLBACK TO pending_history_chunk");
                Execute(null, "RELEASE pending_history_chunk");
                throw;
            }
        }
    }

    private int ConfigNumber(string key) => GetConfig(key) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
}
