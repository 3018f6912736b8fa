using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Configuration;
using Parley.Server.Messaging;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Per-device queues in SQLite with group commit: one writer loop takes every write waiting,
/// runs them in one transaction, commits (fsync with synchronous=FULL), hands the new envelopes
/// to the sink, and only then completes the callers' tasks — so SENT always means durable, and
/// a burst of sends costs one commit instead of one each.
/// </summary>
public sealed class SqliteMessageStore : IMessageStore, IAsyncDisposable
{
    private readonly SqliteDatabase _database;
    private readonly IEnvelopeSink _sink;
    private readonly ILogger<SqliteMessageStore> _logger;
    private readonly long _ttlMs;
    private readonly int _maxBatch;
    private readonly TimeProvider _time;
    // The writer sleeps on an event the callers set, not on a channel: a channel wakes its reader
    // through the thread pool, and under load that wake-up waits behind every connection's work.
    private readonly ConcurrentQueue<WriteOp> _ops = new();
    private readonly ManualResetEventSlim _opsWaiting = new(false, spinCount: 20);
    private volatile bool _stopping;
    private readonly Thread _writer;
    private ulong _lastSeq;

    public SqliteMessageStore(SqliteDatabase database, IEnvelopeSink sink, ParleyOptions options, TimeProvider time, ILogger<SqliteMessageStore> logger)
    {
        _database = database;
        _sink = sink;
        _logger = logger;
        _time = time;
        _ttlMs = TimeSpan.FromDays(options.Limits.EnvelopeTtlDays).Ticks / TimeSpan.TicksPerMillisecond;
        _maxBatch = Math.Max(1, options.Storage.MaxBatch);
        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM envelopes";
            _lastSeq = (ulong)(long)command.ExecuteScalar()!;
        }
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "parley-group-commit" };
        _writer.Start();
    }

    public Task<bool> AppendAsync(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes)
    {
        var op = new AppendOp(dedup, envelopes);
        Enqueue(op);
        return op.Done.Task;
    }

    public Task AckAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts)
    {
        var op = new AckOp(deviceKey, seqs, receipts);
        Enqueue(op);
        return op.Done.Task;
    }

    public async Task<int> DeleteExpiredAsync(long nowUnixMs, long dedupBeforeUnixMs)
    {
        var op = new ExpireOp(nowUnixMs, dedupBeforeUnixMs);
        Enqueue(op);
        await op.Done.Task;
        return op.Deleted;
    }

    public IReadOnlyList<Envelope> ReadQueue(long deviceKey, ulong afterSeq, int limit)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM envelopes WHERE device = $d AND seq > $s ORDER BY seq LIMIT $n";
        command.Parameters.AddWithValue("$d", deviceKey);
        command.Parameters.AddWithValue("$s", (long)afterSeq);
        command.Parameters.AddWithValue("$n", limit);
        using var reader = command.ExecuteReader();
        var result = new List<Envelope>();
        while (reader.Read())
        {
            result.Add(Envelope.Parser.ParseFrom((byte[])reader[0]));
        }
        return result;
    }

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        _opsWaiting.Set();
        _writer.Join();
        while (_ops.TryDequeue(out var op))
        {
            op.Fail(new ObjectDisposedException(nameof(SqliteMessageStore)));
        }
        return ValueTask.CompletedTask;
    }

    private void Enqueue(WriteOp op)
    {
        if (_stopping)
        {
            op.Fail(new ObjectDisposedException(nameof(SqliteMessageStore)));
            return;
        }
        _ops.Enqueue(op);
        _opsWaiting.Set();
    }

    /// <summary>Blocks the writer thread until an operation is queued; false when stopping with nothing left.</summary>
    private bool WaitForOps()
    {
        while (_ops.IsEmpty)
        {
            if (_stopping)
            {
                return false;
            }
            _opsWaiting.Reset();
            if (_ops.IsEmpty && !_stopping)
            {
                _opsWaiting.Wait();
            }
        }
        return true;
    }

    private void WriteLoop()
    {
        using var connection = _database.Open();
        SqliteDatabase.Execute(connection, "PRAGMA wal_autocheckpoint=0;"); // WalCheckpointer does it off this thread
        using var statements = new Statements(connection);
        var batch = new List<WriteOp>(_maxBatch);
        var committed = new List<QueuedEnvelope>(_maxBatch);
        while (WaitForOps())
        {
            batch.Clear();
            committed.Clear();
            while (batch.Count < _maxBatch && _ops.TryDequeue(out var op))
            {
                batch.Add(op);
            }
            var seqBefore = _lastSeq;
            try
            {
                using (var tx = connection.BeginTransaction())
                {
                    statements.Bind(tx);
                    long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                    foreach (var op in batch)
                    {
                        op.Execute(this, statements, now, committed);
                    }
                    tx.Commit();
                }
                if (committed.Count > 0)
                {
                    _sink.OnCommitted(committed);
                }
                foreach (var op in batch)
                {
                    op.Complete();
                }
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Group commit of {Count} operations failed", batch.Count);
                _lastSeq = seqBefore;
                foreach (var op in batch)
                {
                    op.Fail(e);
                }
            }
        }
    }

    private void Insert(Statements s, QueuedEnvelope queued, long now, List<QueuedEnvelope> committed)
    {
        var envelope = queued.Envelope;
        envelope.Seq = ++_lastSeq;
        envelope.ServerTime = now;
        s.InsertDevice.Value = queued.DeviceKey;
        s.InsertSeq.Value = (long)envelope.Seq;
        s.InsertExpires.Value = now + _ttlMs;
        s.InsertBody.Value = envelope.ToByteArray();
        s.Insert.ExecuteNonQuery();
        committed.Add(queued);
    }

    /// <summary>Prepared statements of the writer connection, reused for every batch.</summary>
    private sealed class Statements : IDisposable
    {
        public readonly SqliteCommand Insert;
        public readonly SqliteParameter InsertDevice, InsertSeq, InsertExpires, InsertBody;
        public readonly SqliteCommand Dedup;
        public readonly SqliteParameter DedupSender, DedupId, DedupAt;
        public readonly SqliteCommand Delete;
        public readonly SqliteParameter DeleteDevice, DeleteSeq;
        public readonly SqliteCommand Expire;
        public readonly SqliteParameter ExpireNow;
        public readonly SqliteCommand ExpireDedup;
        public readonly SqliteParameter ExpireDedupBefore;

        public Statements(SqliteConnection connection)
        {
            Insert = Make(connection, "INSERT INTO envelopes(device, seq, expires, body) VALUES ($d, $s, $e, $b)", out InsertDevice, "$d", out InsertSeq, "$s", out InsertExpires, "$e", out InsertBody, "$b");
            Dedup = Make(connection, "INSERT OR IGNORE INTO dedup(sender, message_id, at) VALUES ($s, $m, $a)", out DedupSender, "$s", out DedupId, "$m", out DedupAt, "$a");
            Delete = Make(connection, "DELETE FROM envelopes WHERE seq = $s AND device = $d", out DeleteDevice, "$d", out DeleteSeq, "$s");
            Expire = Make(connection, "DELETE FROM envelopes WHERE expires < $n", out ExpireNow, "$n");
            ExpireDedup = Make(connection, "DELETE FROM dedup WHERE at < $b", out ExpireDedupBefore, "$b");
        }

        public void Bind(SqliteTransaction tx)
        {
            Insert.Transaction = tx;
            Dedup.Transaction = tx;
            Delete.Transaction = tx;
            Expire.Transaction = tx;
            ExpireDedup.Transaction = tx;
        }

        public void Dispose()
        {
            Insert.Dispose();
            Dedup.Dispose();
            Delete.Dispose();
            Expire.Dispose();
            ExpireDedup.Dispose();
        }

        private static SqliteCommand Make(SqliteConnection c, string sql, out SqliteParameter p1, string n1)
        {
            var command = Command(c, sql);
            p1 = command.Parameters.Add(n1, SqliteType.Integer);
            return command;
        }

        private static SqliteCommand Make(SqliteConnection c, string sql, out SqliteParameter p1, string n1, out SqliteParameter p2, string n2)
        {
            var command = Make(c, sql, out p1, n1);
            p2 = command.Parameters.Add(n2, SqliteType.Integer);
            return command;
        }

        private static SqliteCommand Make(SqliteConnection c, string sql, out SqliteParameter p1, string n1, out SqliteParameter p2, string n2, out SqliteParameter p3, string n3)
        {
            var command = Command(c, sql);
            p1 = command.Parameters.Add(n1, SqliteType.Integer);
            p2 = command.Parameters.Add(n2, SqliteType.Blob);
            p3 = command.Parameters.Add(n3, SqliteType.Integer);
            return command;
        }

        private static SqliteCommand Make(SqliteConnection c, string sql, out SqliteParameter p1, string n1, out SqliteParameter p2, string n2, out SqliteParameter p3, string n3, out SqliteParameter p4, string n4)
        {
            var command = Command(c, sql);
            p1 = command.Parameters.Add(n1, SqliteType.Integer);
            p2 = command.Parameters.Add(n2, SqliteType.Integer);
            p3 = command.Parameters.Add(n3, SqliteType.Integer);
            p4 = command.Parameters.Add(n4, SqliteType.Blob);
            return command;
        }

        private static SqliteCommand Command(SqliteConnection c, string sql)
        {
            var command = c.CreateCommand();
            command.CommandText = sql;
            return command;
        }
    }

    private abstract class WriteOp
    {
        public abstract void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed);

        public abstract void Complete();

        public abstract void Fail(Exception e);
    }

    private sealed class AppendOp(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes) : WriteOp
    {
        private bool _fresh = true;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            if (dedup is not null)
            {
                s.DedupSender.Value = dedup.SenderDeviceKey;
                s.DedupId.Value = dedup.MessageId;
                s.DedupAt.Value = now;
                _fresh = s.Dedup.ExecuteNonQuery() == 1;
                if (!_fresh)
                {
                    return;
                }
            }
            foreach (var e in envelopes)
            {
                store.Insert(s, e, now, committed);
            }
        }

        public override void Complete() => Done.TrySetResult(_fresh);

        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    private sealed class AckOp(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts) : WriteOp
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            s.DeleteDevice.Value = deviceKey;
            foreach (var seq in seqs)
            {
                s.DeleteSeq.Value = (long)seq;
                s.Delete.ExecuteNonQuery();
            }
            foreach (var r in receipts)
            {
                store.Insert(s, r, now, committed);
            }
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    private sealed class ExpireOp(long now, long dedupBefore) : WriteOp
    {
        public int Deleted { get; private set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteMessageStore store, Statements s, long unused, List<QueuedEnvelope> committed)
        {
            s.ExpireNow.Value = now;
            Deleted = s.Expire.ExecuteNonQuery();
            s.ExpireDedupBefore.Value = dedupBefore;
            s.ExpireDedup.ExecuteNonQuery();
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);
    }
}
