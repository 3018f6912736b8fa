using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Google.Protobuf;
using System.Buffers;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Groups;
using Parley.Server.Messaging;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Per-device queues in SQLite with group commit: one writer loop takes every write waiting,
/// runs them in one transaction, commits (fsync with synchronous=FULL), hands the new envelopes
/// to the sink, and only then completes the callers' tasks — so SENT always means durable, and
/// a burst of sends costs one commit instead of one each. An ack deletes the envelope's queue
/// row in its commit (from then on no read returns it); the body goes in a later commit, about a
/// second after, together with its acked neighbours (see <see cref="SqliteDatabase"/>), and
/// bodies a stop left behind go when the store opens. A fan-out (group message or notice) stores
/// no row per recipient: its body once, in an envelopes row whose device is <see cref="FanoutBody"/>,
/// with its recipient device set beside it (<see cref="RecipientSet"/>, about 3 bytes a device).
/// What each device still owes is kept in memory (<see cref="FanoutQueue"/>); an ack updates
/// memory only, and each device's progress is written lazily as one fanout_marks row (every seq of
/// a fan-out to it up to the mark is acked), about once a second and at a clean stop. A crash
/// can so lose the last second of fan-out acks: those envelopes are delivered again and the
/// client's inbox drops them by message id. The body goes once every recipient acked it. Shared
/// bodies of the older layout (device <see cref="SharedBody"/>, a queue row per device) still work.
/// A coalesced group receipt (one envelope per set of ids, naming them once) is stored without its
/// entries, its member devices in the recipients column beside its queued row, and named again on read.
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
    // A commit costs the writer about 0.3 ms of CPU whatever it carries (on this VM the fsync's
    // context switches and device kick dominate; the hot pages are rewritten at every commit), so
    // a small batch waits for company until the previous commit began this long ago (while more
    // keeps coming): at 10,000 msgs/s about 200 commits a second instead of 500, and the writer's
    // CPU per message about a third lower, for 2-3 ms more latency (StorageOptions.CommitIntervalMs).
    // StorageOptions.CommitBatch operations go at once.
    private readonly int _commitIntervalMs;
    private readonly int _smallBatch;

    // A commit of at least this many operations means traffic is steady: the next wait skips its probe.
    private const int SteadyBatch = 4;
    // Acked bodies wait this long before they are deleted: by then nearly every envelope appended
    // around them is acked too, so the deletes empty whole pages instead of rewriting them.
    private const long BodyDeleteLagMs = 1000;
    // Bounds the body deletes one commit carries (a drain acks 100,000 at once), so they do not
    // delay the SENTs that share the commit.
    private const int MaxBodyDeletesPerCommit = 4096;
    // How long an idle writer waits before it deletes acked bodies without a write to carry them.
    private const int IdleBodyDeleteMs = 250;
    // Rows one expiry operation deletes: bounds what a sweep adds to the commit it shares.
    private const int ExpireChunk = 4096;
    // The writer's clock never goes back, so expires (now + TTL at append) grows with seq.
    private long _lastNow;
    private readonly List<ulong> _ackedBodies = new();
    private readonly List<ulong> _bodiesToDelete = new();
    private readonly Queue<(long AtMs, ulong Seq)> _seqMarks = new();
    private ulong _bodyDeleteBelow;
    // Whether an acked body may have become deletable since the bodies were last chosen: saves
    // scanning the acked list (tens of thousands of seqs under load) at every commit.
    private bool _bodiesDue;
    // How many acked seqs the last choice looked at: acks of the same batch come after them.
    private int _ackedAtChoice;
    private long _lastMarkMs = long.MinValue / 2;
    private readonly ConcurrentQueue<WriteOp> _ops = new();
    // No spinning before the writer sleeps: the next operation rarely comes within microseconds,
    // and each spin is a sched_yield on a core another thread could use.
    private readonly ManualResetEventSlim _opsWaiting = new(false, spinCount: 0);
    private volatile bool _stopping;
    private readonly Thread _writer;
    private ulong _lastSeq;
    // Per-device queue tallies, written by the writer thread only (after inserts and dequeues),
    // read by any thread for the queue cap. One tally per device that ever had a queue, kept at
    // zero rather than removed, so a live device's insert-then-ack allocates nothing.
    private readonly ConcurrentDictionary<long, QueueTally> _usage = new();
    private bool _recountDue;
    // Queue rows left per shared body (seq), for bodies queued to more than one device; written
    // and read by the writer thread only. A seq not here has at most one queue row.
    private readonly Dictionary<ulong, int> _sharedRows = new();

    // Dedup rows per sending device (writer thread only), and how many rows in all are beyond
    // DedupPerDevice for their device (read by the trim walk). The walk reads the table in key
    // order from the start (message ids are UUIDv7, so each device's oldest first) and hands the
    // keys to the writer, which deletes those of devices still over the bound: so a device loses
    // its oldest rows and keeps its latest. It starts once the excess is an eighth of the table,
    // so a walk reads at most about eight rows per row it deletes, and rows stay in time order,
    // appended at the right edge and deleted from the left. Rows younger than DedupMinAgeMs are
    // never trimmed: a walk cannot tell a row inserted behind it (ids of one millisecond are in
    // random order) from an old one, and a client's immediate resends must always be recognised.
    private readonly Dictionary<long, int> _dedupRows = [];
    private readonly int _dedupPerDevice;
    private long _dedupTotal;
    private long _dedupExcess;
    private int _trimming;
    // Set by a commit that found a trim due while a walk ran: the walk then makes another pass.
    private int _trimAgain;
    private const long DedupMinAgeMs = 60_000;
    // The walk's next chunk: the writer takes it ahead of the queued operations, so a backlog of
    // sends (which is when the table grows fastest) does not hold the trimming back.
    private volatile DeleteDedupOp? _trimOp;

    /// <summary>The envelopes.device of a body shared by several queue rows (no device key is negative).</summary>
    private const long SharedBody = -1;

    /// <summary>The envelopes.device of a fan-out body whose recipients are its recipients column, with no queue rows.</summary>
    private const long FanoutBody = -2;

    // How long fan-out acks wait in memory before the writer persists the marks of the devices
    // that acked (StorageOptions.FanoutAckFlushMs).
    private readonly long _markFlushMs;

    // Fan-out envelopes each device owes (readers take the queue's lock; the writer alone changes them).
    private readonly ConcurrentDictionary<long, FanoutQueue> _owed = new();
    // Per fan-out seq still owed by someone: recipients left and body size (writer thread only).
    private readonly Dictionary<ulong, FanoutCopies> _fanouts = [];
    // Devices whose fan-out mark may have moved since the last flush (writer thread only).
    private readonly HashSet<long> _marksDue = [];
    // When the oldest change in _marksDue was made (writer clock, ms).
    private long _marksDueSinceMs;
    // When the oldest of _deferredReceipts was deferred (writer clock, ms), and how long they may wait.
    private long _receiptsDueSinceMs;
    private readonly long _receiptFlushMs;
    // Group DELIVERY receipts of acks that touched fan-out envelopes only: like those acks, they wait
    // in memory (StorageOptions.GroupReceiptFlushMs, and never past the next marks flush), coalesced
    // over the wait (writer thread only). A crash loses them only with their acks: the envelopes are
    // delivered again, acked again, and the receipts made again.
    private readonly List<QueuedEnvelope> _deferredReceipts = [];
    // The same for acks that came as plain values (AckGroupDeliveryAsync): kept as values until the
    // flush builds their coalesced envelopes (writer thread only).
    private List<GroupDelivery> _deferredDeliveries = [];
    // The list the last DeferredReceiptsOp took (read by its commit's Coalesce, then idle): the two
    // swap at each take, so deferring allocates nothing once they have grown.
    private List<GroupDelivery> _takenDeliveries = [];
    // The highest seq committed: a read of the queue never returns above it, so what it takes from
    // memory and what it reads from the database describe the same moment.
    private ulong _committedSeq;
    private readonly List<long> _recipients = [];
    private readonly AccountDirectory? _accounts;
    // The reader device keys of a coalesced receipt being stored (writer thread only).
    private readonly List<long> _readers = [];
    // The reader device keys of the receipts Coalesce built from GroupDelivery values, by envelope:
    // Insert takes them instead of looking every entry's reader up by name (writer thread only).
    private readonly Dictionary<Envelope, List<long>> _knownReaders = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Opens the store. With <paramref name="accounts"/> (the server always gives it), a coalesced
    /// group receipt is stored with its member devices as a <see cref="RecipientSet"/> (about 3
    /// bytes each) instead of an entry of user name and device each (about 20 bytes), and read back in full.
    /// </summary>
    public SqliteMessageStore(SqliteDatabase database, IEnvelopeSink sink, ParleyOptions options, TimeProvider time, ILogger<SqliteMessageStore> logger,
        AccountDirectory? accounts = null)
    {
        _database = database;
        _accounts = accounts;
        _sink = sink;
        _logger = logger;
        _time = time;
        _ttlMs = TimeSpan.FromDays(options.Limits.EnvelopeTtlDays).Ticks / TimeSpan.TicksPerMillisecond;
        _maxBatch = Math.Max(1, options.Storage.MaxBatch);
        _dedupPerDevice = Math.Max(1, options.Limits.DedupPerDevice);
        _markFlushMs = Math.Max(0, options.Storage.FanoutAckFlushMs);
        _commitIntervalMs = Math.Max(0, options.Storage.CommitIntervalMs);
        _smallBatch = Math.Max(1, options.Storage.CommitBatch);
        _receiptFlushMs = Math.Max(0, options.Storage.GroupReceiptFlushMs);
        using (var connection = database.Open())
        {
            // Bodies acked before the last stop that had not been deleted yet.
            SqliteDatabase.Execute(connection, "DELETE FROM envelopes WHERE device >= 0 AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.device = envelopes.device AND queue.seq = envelopes.seq)");
            SqliteDatabase.Execute(connection, "DELETE FROM envelopes WHERE device = -1 AND seq NOT IN (SELECT seq FROM queue)");
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM envelopes";
            _lastSeq = (ulong)(long)command.ExecuteScalar()!;
            _committedSeq = _lastSeq;
            LoadFanouts(connection);
            Recount(connection);
            CountDedup(connection);
        }
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "parley-group-commit" };
        _writer.Start();
    }

    public Task<bool> AppendAsync(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes)
    {
        var op = new AppendOp(dedup, envelopes, null, null);
        Enqueue(op);
        return op.Done.Task;
    }

    public Task AppendGroupReceiptsAsync(IReadOnlyList<QueuedEnvelope> envelopes)
    {
        var op = new GroupReceiptOp(envelopes);
        Enqueue(op);
        return op.Done.Task;
    }

    public Task<bool> AppendFanoutAsync(DedupKey? dedup, Envelope envelope, IReadOnlyList<long> deviceKeys)
    {
        var op = new AppendOp(dedup, [], new Fanout(envelope, deviceKeys), null);
        Enqueue(op);
        return op.Done.Task;
    }

    /// <summary>
    /// Writes a group change and queues its notice to every device in the same transaction (the
    /// group store's write path: it shares this group commit rather than adding its own).
    /// </summary>
    internal Task CommitGroupAsync(GroupWrite write, Envelope notice, IReadOnlyList<long> deviceKeys)
    {
        var op = new AppendOp(null, [], new Fanout(notice, deviceKeys), write);
        Enqueue(op);
        return op.Done.Task;
    }

    public Task AckAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts)
    {
        var op = new AckOp(deviceKey, seqs, receipts);
        Enqueue(op);
        return op.Done.Task;
    }

    /// <summary>
    /// <see cref="AckAsync"/> of one group message: the DELIVERED stays plain values until the commit
    /// that writes it builds the coalesced envelope (one per message per sender device).
    /// </summary>
    public Task AckGroupDeliveryAsync(long deviceKey, ulong seq, GroupDelivery delivery)
    {
        var op = new AckOp(deviceKey, seq, delivery);
        Enqueue(op);
        return op.Done.Task;
    }

    /// <summary><see cref="AckAsync"/> with group DELIVERED receipts as values, kept so like <see cref="AckGroupDeliveryAsync"/>.</summary>
    public Task AckGroupDeliveriesAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts, IReadOnlyList<GroupDelivery> deliveries)
    {
        var op = new AckOp(deviceKey, seqs, receipts, deliveries);
        Enqueue(op);
        return op.Done.Task;
    }

    /// <summary>
    /// Deletes envelopes past expiry and dedup entries older than <paramref name="dedupBeforeUnixMs"/>.
    /// What to delete is found off the writer thread, on a reader connection of its own; the writer
    /// only deletes by key, at most <see cref="ExpireChunk"/> rows per operation, so a sweep never
    /// holds a commit up for a scan. Envelopes: the writer's clock only moves forward, so
    /// <c>expires</c> grows with seq and the expired ones are one seq range, found by binary search
    /// on the primary key (no index on <c>expires</c> to keep up at every append). Dedup entries:
    /// walked in primary-key order, a chunk per short read transaction.
    /// </summary>
    public async Task<int> DeleteExpiredAsync(long nowUnixMs, long dedupBeforeUnixMs)
    {
        int deleted = 0;
        if (await Task.Run(() => ExpiredSeqs(nowUnixMs)) is var (first, last))
        {
            for (long from = first; from <= last; from += ExpireChunk)
            {
                var op = new ExpireOp(from, Math.Min(last, from + ExpireChunk - 1));
                Enqueue(op);
                await op.Done.Task;
                deleted += op.Deleted;
            }
        }
        (byte[] MessageId, long Sender)? after = null;
        while (await Task.Run(() => ExpiredDedup(dedupBeforeUnixMs, ref after)) is { } keys)
        {
            if (keys.Count > 0)
            {
                var op = new DeleteDedupOp(keys, expired: true);
                Enqueue(op);
                await op.Done.Task;
            }
        }
        return deleted;
    }

    /// <summary>The seq range of envelopes whose expiry has passed (binary search on seq), or null when none has.</summary>
    private (long First, long Last)? ExpiredSeqs(long now)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, expires FROM envelopes WHERE seq >= $s ORDER BY seq LIMIT 1";
        var at = command.Parameters.Add("$s", SqliteType.Integer);
        (long Seq, long Expires)? FirstFrom(long seq)
        {
            at.Value = seq;
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }
        if (FirstFrom(0) is not { } oldest || oldest.Expires >= now)
        {
            return null;
        }
        long lo = oldest.Seq + 1, hi = (long)Volatile.Read(ref _lastSeq), expiredUpTo = oldest.Seq;
        while (lo <= hi)
        {
            long mid = lo + ((hi - lo) / 2);
            if (FirstFrom(mid) is { } row && row.Expires < now)
            {
                expiredUpTo = row.Seq;
                lo = row.Seq + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return (oldest.Seq, expiredUpTo);
    }

    /// <summary>
    /// The next chunk of dedup keys older than <paramref name="before"/>, walking the table in key
    /// order after <paramref name="after"/> (moved on); null once the walk is through.
    /// </summary>
    private List<(byte[] MessageId, long Sender)>? ExpiredDedup(long before, ref (byte[] MessageId, long Sender)? after)
    {
        if (after is { MessageId: null })
        {
            return null;
        }
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message_id, sender, at FROM dedup WHERE (message_id, sender) > ($id, $sender) ORDER BY message_id, sender LIMIT $n";
        command.Parameters.AddWithValue("$id", after?.MessageId ?? []);
        command.Parameters.AddWithValue("$sender", after?.Sender ?? long.MinValue);
        command.Parameters.AddWithValue("$n", ExpireChunk);
        using var reader = command.ExecuteReader();
        var expired = new List<(byte[], long)>();
        int rows = 0;
        while (reader.Read())
        {
            rows++;
            var key = ((byte[])reader[0], reader.GetInt64(1));
            after = key;
            if (reader.GetInt64(2) < before)
            {
                expired.Add(key);
            }
        }
        if (rows < ExpireChunk)
        {
            after = (null!, 0); // through: the next call ends the walk
        }
        return rows == 0 ? null : expired;
    }

    public QueueUsage Usage(long deviceKey)
    {
        var usage = _usage.TryGetValue(deviceKey, out var tally) ? new QueueUsage(Volatile.Read(ref tally.Envelopes), Volatile.Read(ref tally.Bytes)) : default;
        return _owed.TryGetValue(deviceKey, out var owed) ? new QueueUsage(usage.Envelopes + owed.Count, usage.Bytes + owed.Bytes) : usage;
    }

    public IReadOnlyList<ByteString> SentTo(long senderAccount, long recipientAccount, IReadOnlyList<ByteString> messageIds)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        // Sender device keys of one account are a contiguous range (account << 16 | device).
        command.CommandText = "SELECT 1 FROM dedup WHERE message_id = $m AND sender BETWEEN $lo AND $hi AND recipient = $r LIMIT 1";
        var id = command.Parameters.Add("$m", SqliteType.Blob);
        command.Parameters.AddWithValue("$lo", senderAccount << 16);
        command.Parameters.AddWithValue("$hi", (senderAccount << 16) | 0xFFFF);
        command.Parameters.AddWithValue("$r", recipientAccount);
        var sent = new List<ByteString>(messageIds.Count);
        foreach (var messageId in messageIds)
        {
            id.Value = messageId.ToByteArray();
            if (command.ExecuteScalar() is not null)
            {
                sent.Add(messageId);
            }
        }
        return sent;
    }

    /// <summary>
    /// The device's queue rows and the fan-out envelopes it owes, merged in seq order, up to the
    /// last commit: both come from the same moment, so a page never skips a seq that a later one
    /// (or the live path, which drops seqs below the last one sent) would then miss.
    /// </summary>
    public IReadOnlyList<Envelope> ReadQueue(long deviceKey, ulong afterSeq, int limit)
    {
        ulong upTo = Volatile.Read(ref _committedSeq);
        using var connection = _database.Open();
        var result = new List<Envelope>();
        using (var command = connection.CreateCommand())
        {
            // recipients, on a queued row, is the member devices of a compact coalesced receipt.
            command.CommandText = "SELECT e.body, e.recipients FROM queue q CROSS JOIN envelopes e ON e.seq = q.seq WHERE q.device = $d AND q.seq > $s AND q.seq <= $u ORDER BY q.seq LIMIT $n";
            command.Parameters.AddWithValue("$d", deviceKey);
            command.Parameters.AddWithValue("$s", (long)afterSeq);
            command.Parameters.AddWithValue("$u", (long)upTo);
            command.Parameters.AddWithValue("$n", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var envelope = Envelope.Parser.ParseFrom((byte[])reader[0]);
                result.Add(reader.IsDBNull(1) ? envelope : WithReaders(envelope, (byte[])reader[1]));
            }
        }
        if (!_owed.TryGetValue(deviceKey, out var owed) || owed.Count == 0)
        {
            return result;
        }
        var seqs = new List<ulong>();
        owed.CopyRange(afterSeq, upTo, limit, seqs);
        if (seqs.Count == 0)
        {
            return result;
        }
        var merged = new List<Envelope>(Math.Min(limit, result.Count + seqs.Count));
        using var body = connection.CreateCommand();
        body.CommandText = "SELECT body FROM envelopes WHERE seq = $s";
        var at = body.Parameters.Add("$s", SqliteType.Integer);
        int r = 0, f = 0;
        while (merged.Count < limit && (r < result.Count || f < seqs.Count))
        {
            if (f == seqs.Count || (r < result.Count && result[r].Seq < seqs[f]))
            {
                merged.Add(result[r++]);
                continue;
            }
            at.Value = (long)seqs[f++];
            // Gone when every recipient acked it or it expired since the seqs were copied.
            if (body.ExecuteScalar() is byte[] bytes)
            {
                merged.Add(Envelope.Parser.ParseFrom(bytes));
            }
        }
        return merged;
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
        Interlocked.Exchange(ref _trimOp, null)?.Fail(new ObjectDisposedException(nameof(SqliteMessageStore)));
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

    /// <summary>
    /// Blocks the writer thread until an operation is queued, or for a while when acked bodies wait
    /// to be deleted (then it returns with none queued); false when stopping with nothing left.
    /// </summary>
    private bool WaitForOps()
    {
        while (_ops.IsEmpty && _trimOp is null)
        {
            if (_stopping)
            {
                return false;
            }
            _opsWaiting.Reset();
            if (_ops.IsEmpty && _trimOp is null && !_stopping)
            {
                if (_ackedBodies.Count == 0 && _marksDue.Count == 0 && !ReceiptsDeferred)
                {
                    _opsWaiting.Wait();
                }
                else if (!_opsWaiting.Wait(IdleBodyDeleteMs))
                {
                    return true;
                }
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
        long lastCommitStart = 0;
        bool steady = false;
        while (WaitForOps())
        {
            if (!_ops.IsEmpty && _ops.Count < _smallBatch)
            {
                WaitForCompany(lastCommitStart, steady);
            }
            lastCommitStart = Stopwatch.GetTimestamp();
            batch.Clear();
            committed.Clear();
            if (Interlocked.Exchange(ref _trimOp, null) is { } trim)
            {
                batch.Add(trim);
            }
            while (batch.Count < _maxBatch && _ops.TryDequeue(out var op))
            {
                batch.Add(op);
            }
            steady = batch.Count >= SteadyBatch;
            DeferFanoutReceipts(batch);
            bool flushMarks = _marksDue.Count > 0 && MonotonicMs() - _marksDueSinceMs >= _markFlushMs;
            if (ReceiptsDeferred && (flushMarks || MonotonicMs() - _receiptsDueSinceMs >= _receiptFlushMs))
            {
                batch.Add(TakeDeferredReceipts());
            }
            GroupReceiptCarrier.Coalesce(batch, _knownReaders);
            var seqBefore = _lastSeq;
            int ackedBefore = _ackedBodies.Count;
            ChooseBodiesToDelete();
            if (batch.Count == 0 && _bodiesToDelete.Count == 0 && !flushMarks)
            {
                continue;
            }
            try
            {
                using (var tx = connection.BeginTransaction())
                {
                    long now = _lastNow = Math.Max(_lastNow, _time.GetUtcNow().ToUnixTimeMilliseconds());
                    foreach (var op in batch)
                    {
                        op.Execute(this, statements, now, committed);
                    }
                    DeleteBodies(statements, _bodiesToDelete);
                    if (flushMarks)
                    {
                        FlushMarks(statements);
                    }
                    tx.Commit();
                }
                Volatile.Write(ref _committedSeq, _lastSeq);
                ForgetDeletedBodies();
                if (_recountDue)
                {
                    _recountDue = false;
                    Recount(connection);
                    CountDedup(connection);
                }
                StartTrimWhenDue();
                // The sink holds the wake-ups until every envelope and answer of the commit is
                // queued: a connection owed a SENT and an envelope by this commit writes them together.
                _sink.BeginHandOff();
                try
                {
                    if (committed.Count > 0)
                    {
                        _sink.OnCommitted(committed);
                    }
                    foreach (var op in batch)
                    {
                        op.Complete();
                    }
                }
                finally
                {
                    _sink.EndHandOff();
                }
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Group commit of {Count} operations failed", batch.Count);
                _lastSeq = seqBefore;
                foreach (var seq in _sharedRows.Keys.Where(seq => seq > seqBefore).ToList())
                {
                    _sharedRows.Remove(seq);
                }
                _ackedBodies.RemoveRange(ackedBefore, _ackedBodies.Count - ackedBefore);
                _bodiesDue = true;
                _recountDue = true; // the tallies counted what was rolled back
                try
                {
                    // Memory took in what was rolled back: start again from the database (fan-out
                    // acks since the last flush are lost, and their envelopes delivered again; so
                    // are the receipts waiting with them, made again by the acks of the redelivery).
                    _deferredReceipts.Clear();
                    _deferredDeliveries.Clear();
                    LoadFanouts(connection);
                }
                catch (SqliteException reload)
                {
                    _logger.LogError(reload, "Reloading the fan-out queues after a failed commit failed");
                }
                foreach (var op in batch)
                {
                    op.Fail(e);
                }
            }
            if (_database.TakeWalBackfilled())
            {
                CatchUpCheckpoint(connection);
            }
        }
        DeleteAllAckedBodies(connection, statements);
    }

    /// <summary>
    /// Takes the group receipts of acks whose seqs are all fan-out seqs out of the batch into
    /// <see cref="_deferredReceipts"/>: those acks change memory only (their marks are persisted
    /// lazily), so their receipts wait too, at most until the marks go, and a commit of acks alone writes nothing.
    /// An ack of a queue row (older layout) keeps its receipts in its own commit: its delete is durable at once.
    /// </summary>
    private void DeferFanoutReceipts(List<WriteOp> batch)
    {
        foreach (var op in batch)
        {
            if (op is not AckOp ack)
            {
                continue;
            }
            if (ack.HasDelivery)
            {
                if (!ack.AllFanout(_fanouts))
                {
                    ack.MakeReceipts(); // a queue row's ack: its receipt goes in its own commit, as envelopes
                    continue;
                }
                if (!ReceiptsDeferred)
                {
                    _receiptsDueSinceMs = MonotonicMs();
                }
                ack.Defer(_deferredDeliveries);
                if (ack.HasCoalescible)
                {
                    ack.Defer(_deferredReceipts);
                }
            }
            else if (ack.HasCoalescible && ack.AllFanout(_fanouts))
            {
                if (!ReceiptsDeferred)
                {
                    _receiptsDueSinceMs = MonotonicMs();
                }
                ack.Defer(_deferredReceipts);
            }
        }
    }

    /// <summary>Whether group receipts wait in memory (<see cref="_deferredReceipts"/> or <see cref="_deferredDeliveries"/>).</summary>
    private bool ReceiptsDeferred => _deferredReceipts.Count > 0 || _deferredDeliveries.Count > 0;

    /// <summary>The deferred group receipts as one operation, leaving none deferred.</summary>
    private DeferredReceiptsOp TakeDeferredReceipts()
    {
        var op = new DeferredReceiptsOp([.. _deferredReceipts], _deferredDeliveries);
        _deferredReceipts.Clear();
        (_deferredDeliveries, _takenDeliveries) = (_takenDeliveries, _deferredDeliveries);
        _deferredDeliveries.Clear();
        return op;
    }

    /// <summary>
    /// Lets a small batch grow for up to <see cref="_commitIntervalMs"/> after the previous commit
    /// began, but no longer than operations keep coming: when none came in the first millisecond,
    /// the callers are likely all waiting on this commit (a client with a few sends in flight), and
    /// waiting longer would only slow them down. When they keep coming, it sleeps the rest of the
    /// interval in steps of up to 4 ms (every sleep is a timer wake-up and two context switches),
    /// and stops early when a full batch is waiting. In <paramref name="steady"/> traffic (the last
    /// commit had company) the first millisecond's probe is skipped: operations are known to keep
    /// coming, and the probe's sleep would be one more wake-up per commit.
    /// </summary>
    private void WaitForCompany(long lastCommitStart, bool steady)
    {
        if (!steady)
        {
            int seen = _ops.Count;
            Thread.Sleep(1);
            int count = _ops.Count;
            if (count == seen || count >= _smallBatch)
            {
                return;
            }
        }
        double left;
        while ((left = _commitIntervalMs - Stopwatch.GetElapsedTime(lastCommitStart).TotalMilliseconds) >= 1 && _ops.Count < _smallBatch)
        {
            Thread.Sleep((int)Math.Min(left, 4));
        }
    }

    /// <summary>
    /// Picks, in seq order, the acked bodies appended more than <see cref="BodyDeleteLagMs"/> ago,
    /// at most <see cref="MaxBodyDeletesPerCommit"/>.
    /// </summary>
    private void ChooseBodiesToDelete()
    {
        long nowMs = (long)(_time.GetTimestamp() * 1000.0 / _time.TimestampFrequency);
        _ackedAtChoice = _ackedBodies.Count;
        // Where the seq stood at most every 50 ms, so the bound moves in small steps.
        if (nowMs - _lastMarkMs >= 50)
        {
            _seqMarks.Enqueue((nowMs, _lastSeq));
            _lastMarkMs = nowMs;
        }
        while (_seqMarks.Count > 0 && nowMs - _seqMarks.Peek().AtMs >= BodyDeleteLagMs)
        {
            _bodyDeleteBelow = _seqMarks.Dequeue().Seq + 1;
            _bodiesDue = true;
        }
        _bodiesToDelete.Clear();
        if (!_bodiesDue)
        {
            return;
        }
        _bodiesDue = false;
        foreach (var seq in _ackedBodies)
        {
            if (seq < _bodyDeleteBelow)
            {
                _bodiesToDelete.Add(seq);
            }
        }
        if (_bodiesToDelete.Count == 0)
        {
            return;
        }
        _bodiesToDelete.Sort();
        if (_bodiesToDelete.Count > MaxBodyDeletesPerCommit)
        {
            _bodiesToDelete.RemoveRange(MaxBodyDeletesPerCommit, _bodiesToDelete.Count - MaxBodyDeletesPerCommit);
            _bodiesDue = true;
        }
    }

    /// <summary>An ack deleted this seq's queue row; its body goes later.</summary>
    private void OnAcked(ulong seq)
    {
        _ackedBodies.Add(seq);
        if (seq < _bodyDeleteBelow)
        {
            _bodiesDue = true;
        }
    }

    /// <summary>After a commit: drops the bodies it deleted from the acked list.</summary>
    private void ForgetDeletedBodies()
    {
        if (_bodiesToDelete.Count == 0)
        {
            return;
        }
        ulong last = _bodiesToDelete[^1];
        bool all = _bodiesToDelete.Count < MaxBodyDeletesPerCommit;
        int kept = 0;
        for (int i = 0; i < _ackedBodies.Count; i++)
        {
            ulong seq = _ackedBodies[i];
            // Chosen bodies are the smallest eligible seqs the choice saw, so such a seq is deleted
            // when it is eligible and either all were taken or it is not past the last one taken.
            bool deleted = i < _ackedAtChoice && seq < _bodyDeleteBelow && (all || seq <= last);
            if (!deleted)
            {
                _ackedBodies[kept++] = seq;
            }
        }
        _ackedBodies.RemoveRange(kept, _ackedBodies.Count - kept);
        _bodiesToDelete.Clear();
    }

    /// <summary>
    /// Deletes the bodies of sorted acked seqs, one statement per run of consecutive seqs: a seq
    /// between two in a run is in it, so the range holds no body still queued.
    /// </summary>
    private static void DeleteBodies(Statements s, List<ulong> sortedSeqs)
    {
        int i = 0;
        while (i < sortedSeqs.Count)
        {
            int j = i;
            while (j + 1 < sortedSeqs.Count && sortedSeqs[j + 1] == sortedSeqs[j] + 1)
            {
                j++;
            }
            s.DeleteBodies.Bind(1, (long)sortedSeqs[i]).Bind(2, (long)sortedSeqs[j]).Run();
            i = j + 1;
        }
    }

    /// <summary>
    /// Between commits nothing else appends, so this pass ends with the whole WAL copied and the
    /// next transaction starts it over. When it could not (the checkpointer's next pass holds the
    /// checkpoint lock), it tries again after the next commit.
    /// </summary>
    private void CatchUpCheckpoint(SqliteConnection connection)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            using var reader = command.ExecuteReader();
            // One row: busy, frames in the WAL, frames copied.
            if (reader.Read() && (reader.GetInt64(0) != 0 || reader.GetInt64(1) != reader.GetInt64(2)))
            {
                _database.OnWalBackfilled();
            }
        }
        catch (SqliteException e)
        {
            _logger.LogWarning(e, "WAL checkpoint on the writer failed");
        }
    }

    /// <summary>
    /// On stop: persists the fan-out marks and deletes every acked body that is left, so no ack is
    /// lost and no acked body outlives the process.
    /// </summary>
    private void DeleteAllAckedBodies(SqliteConnection connection, Statements statements)
    {
        if (_ackedBodies.Count == 0 && _marksDue.Count == 0 && !ReceiptsDeferred)
        {
            return;
        }
        try
        {
            using var tx = connection.BeginTransaction();
            if (ReceiptsDeferred)
            {
                var receipts = TakeDeferredReceipts();
                GroupReceiptCarrier.Coalesce([receipts], _knownReaders);
                receipts.Execute(this, statements, _lastNow, []);
            }
            FlushMarks(statements);
            _ackedBodies.Sort();
            DeleteBodies(statements, _ackedBodies);
            tx.Commit();
            _ackedBodies.Clear();
        }
        catch (Exception e)
        {
            // The next start deletes them instead.
            _logger.LogWarning(e, "Deleting {Count} acked envelope bodies at stop failed", _ackedBodies.Count);
        }
    }

    /// <summary>Sets the dedup row count of every sending device from the table (at open, and after a failed commit).</summary>
    private void CountDedup(SqliteConnection connection)
    {
        _dedupRows.Clear();
        long total = 0, excess = 0;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sender, COUNT(*) FROM dedup GROUP BY sender";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            int rows = reader.GetInt32(1);
            _dedupRows[reader.GetInt64(0)] = rows;
            total += rows;
            excess += Math.Max(0, rows - _dedupPerDevice);
        }
        _dedupTotal = total;
        Volatile.Write(ref _dedupExcess, excess);
    }

    /// <summary>Counts a dedup row the writer inserted.</summary>
    private void DedupAdded(long sender)
    {
        ref int rows = ref CollectionsMarshal.GetValueRefOrAddDefault(_dedupRows, sender, out _);
        rows++;
        _dedupTotal++;
        if (rows > _dedupPerDevice)
        {
            Volatile.Write(ref _dedupExcess, _dedupExcess + 1);
        }
    }

    /// <summary>Deletes a dedup row on the writer: always when <paramref name="expired"/>, else only when its device is over the bound.</summary>
    private void DeleteDedup(Statements s, byte[] messageId, long sender, bool expired)
    {
        ref int rows = ref CollectionsMarshal.GetValueRefOrNullRef(_dedupRows, sender);
        bool over = !Unsafe.IsNullRef(ref rows) && rows > _dedupPerDevice;
        if ((!expired && !over) || s.ExpireDedup.Bind(1, messageId).Bind(2, sender).Run() != 1 || Unsafe.IsNullRef(ref rows))
        {
            return;
        }
        rows--;
        _dedupTotal--;
        if (over)
        {
            Volatile.Write(ref _dedupExcess, _dedupExcess - 1);
        }
        if (rows == 0)
        {
            _dedupRows.Remove(sender);
        }
    }

    /// <summary>Starts a trim walk when the rows beyond the per-device bound are an eighth of the table and none runs.</summary>
    private void StartTrimWhenDue()
    {
        long excess = Volatile.Read(ref _dedupExcess);
        if (excess <= 0 || excess * 8 < _dedupTotal)
        {
            return;
        }
        if (Interlocked.CompareExchange(ref _trimming, 1, 0) == 0)
        {
            _ = Task.Run(TrimDedupAsync);
        }
        else
        {
            Volatile.Write(ref _trimAgain, 1);
        }
    }

    /// <summary>
    /// Walks the dedup table in key order from its start until no device is over the bound,
    /// handing each chunk of keys old enough to trim to the writer; walks again from the start
    /// while commits asked for it during the walk.
    /// </summary>
    private async Task TrimDedupAsync()
    {
        try
        {
            do
            {
                Volatile.Write(ref _trimAgain, 0);
                await TrimPassAsync();
            }
            while (!_stopping && Volatile.Read(ref _trimAgain) == 1);
        }
        catch (Exception e) when (e is ObjectDisposedException or SqliteException)
        {
            _logger.LogWarning(e, "Trimming the dedup table stopped; the next commit starts it again");
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    private async Task TrimPassAsync()
    {
        long youngFrom = _time.GetUtcNow().ToUnixTimeMilliseconds() - DedupMinAgeMs;
        (byte[] MessageId, long Sender)? after = null;
        while (!_stopping && Volatile.Read(ref _dedupExcess) > 0)
        {
            var (keys, last, read) = ReadDedupKeys(after, youngFrom);
            after = last;
            if (keys.Count > 0)
            {
                var op = new DeleteDedupOp(keys, expired: false);
                _trimOp = op;
                _opsWaiting.Set();
                if (_stopping && Interlocked.Exchange(ref _trimOp, null) is { } unclaimed)
                {
                    unclaimed.Fail(new ObjectDisposedException(nameof(SqliteMessageStore)));
                }
                await op.Done.Task;
            }
            if (read < ExpireChunk)
            {
                break; // through the table
            }
        }
    }

    /// <summary>
    /// Reads up to <see cref="ExpireChunk"/> dedup rows after <paramref name="after"/>, in key order,
    /// on a reader connection of its own: the keys of those stored before <paramref name="youngFrom"/>,
    /// the last key read, and how many rows were read.
    /// </summary>
    private (List<(byte[] MessageId, long Sender)> Keys, (byte[] MessageId, long Sender)? Last, int Read) ReadDedupKeys(
        (byte[] MessageId, long Sender)? after, long youngFrom)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message_id, sender, at FROM dedup WHERE (message_id, sender) > ($id, $sender) ORDER BY message_id, sender LIMIT $n";
        command.Parameters.AddWithValue("$id", after?.MessageId ?? []);
        command.Parameters.AddWithValue("$sender", after?.Sender ?? long.MinValue);
        command.Parameters.AddWithValue("$n", ExpireChunk);
        using var reader = command.ExecuteReader();
        var keys = new List<(byte[], long)>();
        (byte[], long)? last = after;
        int read = 0;
        while (reader.Read())
        {
            read++;
            var key = ((byte[])reader[0], reader.GetInt64(1));
            last = key;
            if (reader.GetInt64(2) < youngFrom)
            {
                keys.Add(key);
            }
        }
        return (keys, last, read);
    }

    /// <summary>Sets every device's tally and the shared bodies' row counts from the queue table (at open, and after expiry deleted rows).</summary>
    private void Recount(SqliteConnection connection)
    {
        _sharedRows.Clear();
        using (var shared = connection.CreateCommand())
        {
            shared.CommandText = "SELECT seq, COUNT(*) FROM queue WHERE seq IN (SELECT seq FROM envelopes WHERE device = -1) GROUP BY seq HAVING COUNT(*) > 1";
            using var rows = shared.ExecuteReader();
            while (rows.Read())
            {
                _sharedRows[(ulong)rows.GetInt64(0)] = rows.GetInt32(1);
            }
        }
        var counted = new HashSet<long>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT device, COUNT(*), SUM(size) FROM queue GROUP BY device";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var tally = _usage.GetOrAdd(reader.GetInt64(0), _ => new QueueTally());
            Volatile.Write(ref tally.Envelopes, reader.GetInt32(1));
            Volatile.Write(ref tally.Bytes, reader.GetInt64(2));
            counted.Add(reader.GetInt64(0));
        }
        foreach (var (device, tally) in _usage)
        {
            if (!counted.Contains(device))
            {
                Volatile.Write(ref tally.Envelopes, 0);
                Volatile.Write(ref tally.Bytes, 0);
            }
        }
    }

    private void Tally(long deviceKey, int envelopes, long bytes)
    {
        var tally = _usage.GetOrAdd(deviceKey, static _ => new QueueTally());
        Volatile.Write(ref tally.Envelopes, Math.Max(0, tally.Envelopes + envelopes));
        Volatile.Write(ref tally.Bytes, Math.Max(0, tally.Bytes + bytes));
    }

    private void Insert(Statements s, QueuedEnvelope queued, long now, List<QueuedEnvelope> committed)
    {
        var envelope = queued.Envelope;
        envelope.Seq = ++_lastSeq;
        envelope.ServerTime = now;
        if (_knownReaders.Remove(envelope, out var known) ? KnownReaders(known) : CompactReaders(envelope))
        {
            InsertCompactReceipt(s, queued, now, committed);
            return;
        }
        int size = envelope.CalculateSize();
        var body = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            envelope.WriteTo(body.AsSpan(0, size));
            s.Insert.Bind(1, queued.DeviceKey).Bind(2, (long)envelope.Seq).Bind(3, now + _ttlMs).Bind(4, body.AsSpan(0, size)).Run();
            s.Enqueue.Bind(1, queued.DeviceKey).Bind(2, (long)envelope.Seq).Bind(3, size).Run();
            Tally(queued.DeviceKey, 1, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
        committed.Add(queued);
    }

    /// <summary>
    /// Whether <paramref name="envelope"/> is a coalesced receipt whose entries all take the
    /// envelope's ids and whose readers are all known accounts: then <see cref="_readers"/> holds
    /// their device keys, sorted and distinct, and it is stored in the compact form.
    /// </summary>
    private bool CompactReaders(Envelope envelope)
    {
        if (_accounts is null || envelope.Receipts.Count == 0 || envelope.ReceiptIds.Count == 0)
        {
            return false;
        }
        _readers.Clear();
        foreach (var entry in envelope.Receipts)
        {
            if (entry.MessageIds.Count > 0 || entry.ReaderDevice > 0xFFFF || _accounts.Find(entry.Reader) is not { } reader)
            {
                return false;
            }
            _readers.Add(new DeviceAddress(reader.Id, entry.ReaderDevice).Key);
        }
        return SortReaders();
    }

    /// <summary>
    /// <see cref="CompactReaders"/> for a receipt built from GroupDelivery values, whose reader
    /// device keys are known (<paramref name="keys"/>, one per entry): no lookup by name. Stored
    /// compact like the others when the accounts are known to this store.
    /// </summary>
    private bool KnownReaders(List<long> keys)
    {
        if (_accounts is null)
        {
            return false;
        }
        _readers.Clear();
        _readers.AddRange(keys);
        return SortReaders();
    }

    /// <summary>Sorts <see cref="_readers"/> and drops repeats; always true.</summary>
    private bool SortReaders()
    {
        _readers.Sort();
        int distinct = 0;
        for (int i = 0; i < _readers.Count; i++)
        {
            if (distinct == 0 || _readers[i] != _readers[distinct - 1])
            {
                _readers[distinct++] = _readers[i];
            }
        }
        _readers.RemoveRange(distinct, _readers.Count - distinct);
        return true;
    }

    /// <summary>
    /// Stores a coalesced receipt without its entries, its member devices in the recipients column
    /// (<see cref="RecipientSet"/>); <see cref="ReadQueue"/> names them again. The live copy keeps
    /// its entries: only the stored form is compact.
    /// </summary>
    private void InsertCompactReceipt(Statements s, QueuedEnvelope queued, long now, List<QueuedEnvelope> committed)
    {
        var envelope = queued.Envelope;
        var entries = envelope.Receipts.ToArray();
        envelope.Receipts.Clear();
        int size = envelope.CalculateSize();
        var body = ArrayPool<byte>.Shared.Rent(size);
        var readers = ArrayPool<byte>.Shared.Rent(RecipientSet.MaxBytes(_readers.Count));
        try
        {
            envelope.WriteTo(body.AsSpan(0, size));
            int length = RecipientSet.Write(CollectionsMarshal.AsSpan(_readers), readers);
            s.InsertFanout.Bind(1, queued.DeviceKey).Bind(2, (long)envelope.Seq).Bind(3, now + _ttlMs).Bind(4, body.AsSpan(0, size)).Bind(5, readers.AsSpan(0, length)).Run();
            s.Enqueue.Bind(1, queued.DeviceKey).Bind(2, (long)envelope.Seq).Bind(3, size + length).Run();
            Tally(queued.DeviceKey, 1, size + length);
        }
        finally
        {
            envelope.Receipts.AddRange(entries);
            ArrayPool<byte>.Shared.Return(body);
            ArrayPool<byte>.Shared.Return(readers);
        }
        committed.Add(queued);
    }

    /// <summary>A stored receipt's member devices, named again as entries; devices of accounts gone since are left out.</summary>
    private Envelope WithReaders(Envelope envelope, byte[] readers)
    {
        var keys = new List<long>();
        RecipientSet.Read(readers, keys);
        foreach (var key in keys)
        {
            if (_accounts?.Find(key >> 16) is { } reader)
            {
                envelope.Receipts.Add(new ReceiptEntry { Reader = reader.User, ReaderDevice = (uint)(key & 0xFFFF) });
            }
        }
        return envelope;
    }

    /// <summary>
    /// Stores one body under one seq with its recipient set (see <see cref="FanoutBody"/>) and adds
    /// the seq to each recipient's owed set: no row per recipient.
    /// </summary>
    private void InsertFanout(Statements s, Fanout fanout, long now, List<QueuedEnvelope> committed)
    {
        if (fanout.DeviceKeys.Count == 0)
        {
            return;
        }
        var keys = ArrayPool<long>.Shared.Rent(fanout.DeviceKeys.Count);
        int count = 0;
        for (int i = 0; i < fanout.DeviceKeys.Count; i++)
        {
            keys[count++] = fanout.DeviceKeys[i];
        }
        Array.Sort(keys, 0, count);
        int distinct = 0;
        for (int i = 0; i < count; i++)
        {
            if (distinct == 0 || keys[i] != keys[distinct - 1])
            {
                keys[distinct++] = keys[i];
            }
        }
        var envelope = fanout.Envelope;
        envelope.Seq = ++_lastSeq;
        envelope.ServerTime = now;
        int size = envelope.CalculateSize();
        var body = ArrayPool<byte>.Shared.Rent(size);
        var recipients = ArrayPool<byte>.Shared.Rent(RecipientSet.MaxBytes(distinct));
        try
        {
            envelope.WriteTo(body.AsSpan(0, size));
            int length = RecipientSet.Write(keys.AsSpan(0, distinct), recipients);
            s.InsertFanout.Bind(1, FanoutBody).Bind(2, (long)envelope.Seq).Bind(3, now + _ttlMs).Bind(4, body.AsSpan(0, size)).Bind(5, recipients.AsSpan(0, length)).Run();
            for (int i = 0; i < distinct; i++)
            {
                Owed(keys[i]).Add(envelope.Seq, size);
                committed.Add(new QueuedEnvelope(keys[i], envelope));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
            ArrayPool<byte>.Shared.Return(recipients);
            ArrayPool<long>.Shared.Return(keys);
        }
        _fanouts[envelope.Seq] = new FanoutCopies(distinct, size);
    }

    private FanoutQueue Owed(long deviceKey) => _owed.GetOrAdd(deviceKey, static _ => new FanoutQueue());

    /// <summary>
    /// An ack of <paramref name="seq"/> by a device, when it is a fan-out seq (true; false sends it
    /// to the queue rows): drops it from the device's owed set, and once no recipient owes it, hands
    /// its body to the acked-body deletion.
    /// </summary>
    private bool AckFanout(long deviceKey, ulong seq)
    {
        if (!_fanouts.TryGetValue(seq, out var copies))
        {
            return false;
        }
        if (_owed.TryGetValue(deviceKey, out var owed) && owed.Remove(seq, copies.Size))
        {
            MarkDue(deviceKey);
            if (--copies.Left == 0)
            {
                _fanouts.Remove(seq);
                OnAcked(seq);
            }
        }
        return true;
    }

    /// <summary>Drops expired fan-out seqs up to <paramref name="last"/> from memory (their bodies are deleted by the caller); returns the deliveries dropped.</summary>
    private int ExpireFanouts(ulong last)
    {
        if (_fanouts.Count == 0)
        {
            return 0;
        }
        int dropped = 0;
        foreach (var (device, owed) in _owed)
        {
            if (owed.Count > 0 && owed.First() <= last)
            {
                dropped += owed.RemoveThrough(last, seq => _fanouts.TryGetValue(seq, out var copies) ? copies.Size : 0);
                MarkDue(device);
            }
        }
        foreach (var seq in _fanouts.Keys.Where(seq => seq <= last).ToList())
        {
            _fanouts.Remove(seq);
        }
        return dropped;
    }

    /// <summary>
    /// Writes the fan-out mark of every device whose owed set changed: the seq below its lowest owed
    /// one, or the last seq when it owes none (every fan-out to it up to there is acked).
    /// </summary>
    private void FlushMarks(Statements s)
    {
        foreach (var device in _marksDue)
        {
            ulong mark = _owed.TryGetValue(device, out var owed) && owed.First() is { } first ? first - 1 : _lastSeq;
            s.MarkUpsert.Bind(1, device).Bind(2, (long)mark).Run();
        }
        _marksDue.Clear();
    }

    /// <summary>
    /// Builds the owed sets from the fan-out bodies and the persisted marks (at open, and after a
    /// failed commit). A body no recipient owes any more is handed to the acked-body deletion.
    /// </summary>
    private void LoadFanouts(SqliteConnection connection)
    {
        foreach (var owed in _owed.Values)
        {
            owed.Clear();
        }
        _fanouts.Clear();
        _marksDue.Clear();
        var marks = new Dictionary<long, ulong>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT device, acked_through FROM fanout_marks";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                marks[reader.GetInt64(0)] = (ulong)reader.GetInt64(1);
            }
        }
        var acked = new HashSet<ulong>(_ackedBodies);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, length(body), recipients FROM envelopes WHERE device = -2 ORDER BY seq";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ulong seq = (ulong)reader.GetInt64(0);
                if (acked.Contains(seq))
                {
                    continue;
                }
                int size = reader.GetInt32(1);
                RecipientSet.Read((byte[])reader[2], _recipients);
                int left = 0;
                foreach (var device in _recipients)
                {
                    if (!marks.TryGetValue(device, out var mark) || seq > mark)
                    {
                        Owed(device).Add(seq, size);
                        left++;
                    }
                }
                if (left > 0)
                {
                    _fanouts[seq] = new FanoutCopies(left, size);
                }
                else
                {
                    OnAcked(seq);
                }
            }
        }
    }

    private long MonotonicMs() => (long)(_time.GetTimestamp() * 1000.0 / _time.TimestampFrequency);

    /// <summary>Notes that a device's fan-out mark may have moved (persisted within the flush interval).</summary>
    private void MarkDue(long deviceKey)
    {
        if (_marksDue.Count == 0)
        {
            _marksDueSinceMs = MonotonicMs();
        }
        _marksDue.Add(deviceKey);
    }

    /// <summary>One queue row of <paramref name="seq"/> was acked; true when its body has no queue row left.</summary>
    private bool ReleaseRow(ulong seq)
    {
        if (!_sharedRows.TryGetValue(seq, out var left))
        {
            return true;
        }
        if (left <= 1)
        {
            _sharedRows.Remove(seq);
            return true;
        }
        _sharedRows[seq] = left - 1;
        return false;
    }

    private static void WriteGroup(Statements s, GroupWrite write)
    {
        foreach (var account in write.Removed)
        {
            s.MemberDelete.Bind(1, write.Row).Bind(2, account).Run();
        }
        foreach (var account in write.RequestsRemoved)
        {
            s.RequestDelete.Bind(1, write.Row).Bind(2, account).Run();
        }
        if (write.Deleted || write.InviteRevoked)
        {
            s.InviteDelete.Bind(1, write.Row).Run();
        }
        if (write.Deleted)
        {
            s.RequestsDelete.Bind(1, write.Row).Run();
            s.GroupDelete.Bind(1, write.Row).Run();
            return;
        }
        if (write.Invite is { } invite)
        {
            s.InviteUpsert.Bind(1, write.Row).Bind(2, invite.Hash).Bind(3, invite.Approve ? 1 : 0).Bind(4, invite.CreatorDevice).Bind(5, invite.CreatedAt).Run();
        }
        foreach (var request in write.RequestsAdded)
        {
            s.RequestUpsert.Bind(1, write.Row).Bind(2, request.Account).Bind(3, request.At).Run();
        }
        s.GroupUpsert.Bind(1, write.Row).Bind(2, write.Id).Bind(3, (long)write.Version).Run();
        foreach (var m in write.Upserts)
        {
            s.MemberUpsert.Bind(1, write.Row).Bind(2, m.Account).Bind(3, (long)m.Role).Bind(4, m.JoinedAt).Run();
        }
    }

    /// <summary>
    /// The writer's prepared statements, bound and stepped through SQLitePCL.raw: the ADO.NET
    /// wrapper allocates a binder, boxed values, a reader and enumerators per execution (about
    /// 1.7 KB per message), and this loop runs several statements per message.
    /// </summary>
    private sealed class Statements(SqliteConnection connection) : IDisposable
    {
        public readonly RawStatement Insert = new(connection.Handle!, "INSERT INTO envelopes(device, seq, expires, body) VALUES (?1, ?2, ?3, ?4)");
        public readonly RawStatement InsertFanout = new(connection.Handle!, "INSERT INTO envelopes(device, seq, expires, body, recipients) VALUES (?1, ?2, ?3, ?4, ?5)");
        public readonly RawStatement MarkUpsert = new(connection.Handle!, "INSERT INTO fanout_marks(device, acked_through) VALUES (?1, ?2) ON CONFLICT(device) DO UPDATE SET acked_through = excluded.acked_through");
        public readonly RawStatement Dedup = new(connection.Handle!, "INSERT OR IGNORE INTO dedup(sender, message_id, at, recipient) VALUES (?1, ?2, ?3, ?4)");
        public readonly RawStatement AddContact = new(connection.Handle!, "INSERT INTO contact_edges(sender, recipient) VALUES (?1, ?2)");
        public readonly RawStatement Enqueue = new(connection.Handle!, "INSERT INTO queue(device, seq, size) VALUES (?1, ?2, ?3)");
        public readonly RawStatement Dequeue = new(connection.Handle!, "DELETE FROM queue WHERE seq = ?1 AND device = ?2 RETURNING size");
        public readonly RawStatement DeleteBodies = new(connection.Handle!, "DELETE FROM envelopes WHERE seq BETWEEN ?1 AND ?2");
        // Both by primary key: the queue rows of a seq range are looked up through the range's bodies.
        public readonly RawStatement ExpireQueued = new(connection.Handle!, "DELETE FROM queue WHERE (device, seq) IN (SELECT device, seq FROM envelopes WHERE seq BETWEEN ?1 AND ?2)");
        public readonly RawStatement ExpireDedup = new(connection.Handle!, "DELETE FROM dedup WHERE message_id = ?1 AND sender = ?2");
        // A group body is one row (device -1) shared by the queue rows of every recipient device.
        public readonly RawStatement ExpireSharedQueued = new(connection.Handle!, "DELETE FROM queue WHERE seq IN (SELECT seq FROM envelopes WHERE device = -1 AND seq BETWEEN ?1 AND ?2)");
        public readonly RawStatement GroupUpsert = new(connection.Handle!, "INSERT INTO groups(row, id, version) VALUES (?1, ?2, ?3) ON CONFLICT(row) DO UPDATE SET version = excluded.version");
        public readonly RawStatement GroupDelete = new(connection.Handle!, "DELETE FROM groups WHERE row = ?1");
        public readonly RawStatement MemberUpsert = new(connection.Handle!, "INSERT INTO group_members(grp, account, role, joined) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(grp, account) DO UPDATE SET role = excluded.role");
        public readonly RawStatement MemberDelete = new(connection.Handle!, "DELETE FROM group_members WHERE grp = ?1 AND account = ?2");
        public readonly RawStatement InviteUpsert = new(connection.Handle!, "INSERT OR REPLACE INTO group_invites(grp, hash, approve, creator, created) VALUES (?1, ?2, ?3, ?4, ?5)");
        public readonly RawStatement InviteDelete = new(connection.Handle!, "DELETE FROM group_invites WHERE grp = ?1");
        public readonly RawStatement RequestUpsert = new(connection.Handle!, "INSERT OR REPLACE INTO group_requests(grp, account, at) VALUES (?1, ?2, ?3)");
        public readonly RawStatement RequestDelete = new(connection.Handle!, "DELETE FROM group_requests WHERE grp = ?1 AND account = ?2");
        public readonly RawStatement RequestsDelete = new(connection.Handle!, "DELETE FROM group_requests WHERE grp = ?1");

        public void Dispose()
        {
            Insert.Dispose();
            InsertFanout.Dispose();
            MarkUpsert.Dispose();
            Dedup.Dispose();
            AddContact.Dispose();
            Enqueue.Dispose();
            Dequeue.Dispose();
            DeleteBodies.Dispose();
            ExpireQueued.Dispose();
            ExpireDedup.Dispose();
            ExpireSharedQueued.Dispose();
            GroupUpsert.Dispose();
            GroupDelete.Dispose();
            MemberUpsert.Dispose();
            MemberDelete.Dispose();
            InviteUpsert.Dispose();
            InviteDelete.Dispose();
            RequestUpsert.Dispose();
            RequestDelete.Dispose();
            RequestsDelete.Dispose();
        }
    }

    /// <summary>One prepared statement: bind by 1-based index, run, reset.</summary>
    private sealed class RawStatement : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;

        public RawStatement(sqlite3 db, string sql)
        {
            _db = db;
            Check(raw.sqlite3_prepare_v2(db, sql, out _statement));
        }

        public RawStatement Bind(int index, long value)
        {
            Check(raw.sqlite3_bind_int64(_statement, index, value));
            return this;
        }

        public RawStatement Bind(int index, ReadOnlySpan<byte> value)
        {
            Check(raw.sqlite3_bind_blob(_statement, index, value));
            return this;
        }

        /// <summary>Steps the statement to completion; returns the rows it changed.</summary>
        public int Run()
        {
            int rc = raw.sqlite3_step(_statement);
            raw.sqlite3_reset(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }
            return raw.sqlite3_changes(_db);
        }

        /// <summary>Steps a statement that returns at most one row of one integer (a RETURNING clause); null when no row.</summary>
        public long? RunScalar()
        {
            long? value = null;
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
                value = raw.sqlite3_column_int64(_statement, 0);
            }
            raw.sqlite3_reset(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }
            return value;
        }

        public void Dispose() => _statement.Dispose();

        private void Check(int rc)
        {
            if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
            {
                throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
            }
        }
    }

    /// <summary>A fan-out seq's recipients that still owe an ack, and its body size; writer thread only.</summary>
    private sealed class FanoutCopies(int left, int size)
    {
        public int Left = left;
        public readonly int Size = size;
    }

    /// <summary>One device's queue tally; fields written by the writer thread only.</summary>
    private sealed class QueueTally
    {
        public int Envelopes;
        public long Bytes;
    }

    private abstract class WriteOp
    {
        public abstract void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed);

        public abstract void Complete();

        public abstract void Fail(Exception e);
    }

    /// <summary>One envelope bound for many devices' queues, its body stored once.</summary>
    private sealed record Fanout(Envelope Envelope, IReadOnlyList<long> DeviceKeys);

    private sealed class AppendOp(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes, Fanout? fanout, GroupWrite? group) : WriteOp
    {
        private bool _fresh = true;

        // Completed inline on the writer thread: what follows a durable append is only building
        // the SENT frame and queueing it on the connection (microseconds), and doing that here
        // saves every message a thread-pool hop.
        public TaskCompletionSource<bool> Done { get; } = new();

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            if (dedup is { NewContact: true })
            {
                // Before the dedup check: a resend of the message that made the edge stores it too.
                s.AddContact.Bind(1, dedup.SenderDeviceKey >> 16).Bind(2, dedup.RecipientAccount).Run();
            }
            if (dedup is not null)
            {
                _fresh = s.Dedup.Bind(1, dedup.SenderDeviceKey).Bind(2, dedup.MessageId).Bind(3, now).Bind(4, dedup.RecipientAccount).Run() == 1;
                if (!_fresh)
                {
                    return;
                }
                store.DedupAdded(dedup.SenderDeviceKey);
            }
            if (group is not null)
            {
                WriteGroup(s, group);
            }
            foreach (var e in envelopes)
            {
                store.Insert(s, e, now, committed);
            }
            if (fanout is not null)
            {
                store.InsertFanout(s, fanout, now, committed);
            }
        }

        public override void Complete() => Done.TrySetResult(_fresh);

        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    /// <summary>
    /// An operation that queues group receipts (READs, or the DELIVERY receipts an ack of group
    /// messages causes) that may be coalesced with those of other operations in the same commit.
    /// </summary>
    private abstract class GroupReceiptCarrier : WriteOp
    {
        /// <summary>Whether this op brings any receipt <see cref="IsCoalescible"/> accepts (checked first: most acks bring none).</summary>
        public abstract bool HasCoalescible { get; }

        /// <summary>The receipts this op brings; those <see cref="IsCoalescible"/> may be merged with others.</summary>
        public abstract IReadOnlyList<QueuedEnvelope> Receipts { get; }

        /// <summary>Whether a receipt of this op may be merged with others (a group id, for another user's device).</summary>
        public abstract bool IsCoalescible(QueuedEnvelope receipt);

        /// <summary>Group DELIVERED receipts this op brings as plain values, all coalescible.</summary>
        public virtual IReadOnlyList<GroupDelivery> Deliveries => [];

        /// <summary>Set by <see cref="Coalesce"/> on the first carrier of a commit: every coalescible receipt of the commit, merged.</summary>
        protected IReadOnlyList<QueuedEnvelope> Merged { get; private set; } = [];

        /// <summary>Inserts the merged receipts this op was given.</summary>
        protected void InsertMerged(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            for (int i = 0; i < Merged.Count; i++)
            {
                store.Insert(s, Merged[i], now, committed);
            }
        }

        /// <summary>
        /// Merges the coalescible receipts of every carrier in the batch bound for the same device,
        /// group and kind into envelopes of <see cref="Envelope.Receipts"/> entries (at most
        /// MaxIdsPerFrame ids each), and gives them to the first carrier to insert: one envelope per
        /// sender device per commit instead of one per member. Same transaction as the others, so
        /// each member's ack or READ is still durable with its receipt.
        /// </summary>
        public static void Coalesce(List<WriteOp> batch, Dictionary<Envelope, List<long>> knownReaders)
        {
            knownReaders.Clear(); // left by a commit that failed
            GroupReceiptCarrier? first = null;
            Dictionary<(long Device, ByteString Group, EnvelopeKind Kind), List<Envelope>>? merged = null;
            var order = new List<QueuedEnvelope>();
            foreach (var op in batch)
            {
                if (op is not GroupReceiptCarrier carrier || !carrier.HasCoalescible)
                {
                    continue;
                }
                var receipts = carrier.Receipts;
                for (int i = 0; i < receipts.Count; i++) // by index: no enumerator per op
                {
                    var queued = receipts[i];
                    if (!carrier.IsCoalescible(queued))
                    {
                        continue;
                    }
                    first ??= carrier;
                    merged ??= [];
                    (long, ByteString, EnvelopeKind) key = (queued.DeviceKey, queued.Envelope.GroupId, queued.Envelope.Kind);
                    if (!merged.TryGetValue(key, out var list))
                    {
                        merged[key] = list = [];
                    }
                    list.Add(queued.Envelope);
                }
            }
            foreach (var op in batch)
            {
                if (op is GroupReceiptCarrier { Deliveries.Count: > 0 } carrier)
                {
                    first ??= carrier;
                    CoalesceDeliveries(carrier.Deliveries, order, knownReaders);
                }
            }
            if (first is null)
            {
                return;
            }
            foreach (var ((device, group, kind), list) in merged ?? [])
            {
                if (list.Count == 1)
                {
                    order.Add(new QueuedEnvelope(device, list[0]));
                    continue;
                }
                // One envelope per set of ids, naming them once (members acking or reading the same
                // message: the common case); its entries name only the member device.
                var byIds = new Dictionary<ByteString, (Envelope Envelope, int Ids)>();
                foreach (var single in list)
                {
                    var ids = IdSet(single.ReceiptIds);
                    // Bounded like any receipt: each entry counts its ids against MaxIdsPerFrame.
                    if (!byIds.TryGetValue(ids, out var current) || current.Ids + single.ReceiptIds.Count > WireLimits.MaxIdsPerFrame)
                    {
                        current = (new Envelope { Kind = kind, GroupId = group }, 0);
                        current.Envelope.ReceiptIds.AddRange(single.ReceiptIds);
                        order.Add(new QueuedEnvelope(device, current.Envelope));
                    }
                    current.Envelope.Receipts.Add(new ReceiptEntry { Reader = single.Sender, ReaderDevice = single.SenderDevice });
                    byIds[ids] = (current.Envelope, current.Ids + single.ReceiptIds.Count);
                }
            }
            first.Merged = order;
        }

        /// <summary>
        /// Builds the envelopes of group DELIVERED receipts kept as values: one per sender device and
        /// message (its id named once, an entry per member device, at most MaxIdsPerFrame entries),
        /// and a lone receipt stays a plain one, as <see cref="Coalesce"/> leaves a lone envelope.
        /// </summary>
        private static void CoalesceDeliveries(IReadOnlyList<GroupDelivery> deliveries, List<QueuedEnvelope> into, Dictionary<Envelope, List<long>> knownReaders)
        {
            int start = into.Count;
            var byMessage = new Dictionary<(long Device, ByteString Group, ByteString Message), (Envelope Envelope, List<long> Readers)>(DeliveryKeyComparer.Instance);
            for (int i = 0; i < deliveries.Count; i++)
            {
                var delivery = deliveries[i];
                var devices = delivery.SenderDevices;
                for (int d = 0; d < devices.Length; d++)
                {
                    long device = new DeviceAddress(delivery.SenderAccount, devices[d].Id).Key;
                    ref var current = ref CollectionsMarshal.GetValueRefOrAddDefault(byMessage, (device, delivery.GroupId, delivery.MessageId), out bool exists);
                    if (!exists || current.Readers.Count >= WireLimits.MaxIdsPerFrame)
                    {
                        current = (new Envelope { Kind = EnvelopeKind.DeliveryReceipt, GroupId = delivery.GroupId }, []);
                        current.Envelope.ReceiptIds.Add(delivery.MessageId);
                        into.Add(new QueuedEnvelope(device, current.Envelope));
                        knownReaders[current.Envelope] = current.Readers;
                    }
                    current.Envelope.Receipts.Add(new ReceiptEntry { Reader = delivery.Reader, ReaderDevice = delivery.ReaderDevice });
                    current.Readers.Add(new DeviceAddress(delivery.ReaderAccount, delivery.ReaderDevice).Key);
                }
            }
            for (int i = start; i < into.Count; i++)
            {
                var envelope = into[i].Envelope;
                if (envelope.Receipts.Count == 1)
                {
                    knownReaders.Remove(envelope); // a plain receipt: nothing to store compactly
                    var entry = envelope.Receipts[0];
                    envelope.Receipts.Clear();
                    envelope.Sender = entry.Reader;
                    envelope.SenderDevice = entry.ReaderDevice;
                    envelope.Conversation = entry.Reader;
                }
            }
        }

        /// <summary>
        /// Keys of <see cref="CoalesceDeliveries"/>: the ByteStrings of one message are mostly the same
        /// objects (every member got the same envelope), so equality tries the reference first, and
        /// the hash takes the id's 16 bytes as two longs through the process-seeded <see cref="HashCode"/>
        /// (ids are the client's choice) instead of ByteString's byte-by-byte loop.
        /// </summary>
        private sealed class DeliveryKeyComparer : IEqualityComparer<(long Device, ByteString Group, ByteString Message)>
        {
            public static readonly DeliveryKeyComparer Instance = new();

            public bool Equals((long Device, ByteString Group, ByteString Message) x, (long Device, ByteString Group, ByteString Message) y) =>
                x.Device == y.Device && Same(x.Message, y.Message) && Same(x.Group, y.Group);

            public int GetHashCode((long Device, ByteString Group, ByteString Message) key)
            {
                var id = key.Message.Span;
                return id.Length == WireLimits.MessageIdBytes
                    ? HashCode.Combine(key.Device, MemoryMarshal.Read<long>(id), MemoryMarshal.Read<long>(id[8..]))
                    : HashCode.Combine(key.Device, key.Message);
            }

            private static bool Same(ByteString a, ByteString b) => ReferenceEquals(a, b) || a.Span.SequenceEqual(b.Span);
        }

        /// <summary>The ids of a receipt as one key (ids are 16 bytes each, so a concatenation is unambiguous).</summary>
        private static ByteString IdSet(IList<ByteString> ids)
        {
            if (ids.Count == 1)
            {
                return ids[0];
            }
            var all = new byte[ids.Sum(id => id.Length)];
            int at = 0;
            foreach (var id in ids)
            {
                id.Span.CopyTo(all.AsSpan(at));
                at += id.Length;
            }
            return ByteString.CopyFrom(all);
        }
    }

    /// <summary>Group READ receipts: those for another user's devices are coalesced per commit (see <see cref="GroupReceiptCarrier.Coalesce"/>).</summary>
    private sealed class GroupReceiptOp(IReadOnlyList<QueuedEnvelope> envelopes) : GroupReceiptCarrier
    {
        public TaskCompletionSource Done { get; } = new();

        public override bool HasCoalescible => true;

        public override IReadOnlyList<QueuedEnvelope> Receipts => envelopes;

        // Receipts for the reader's own devices (empty conversation) are one per reader anyway.
        public override bool IsCoalescible(QueuedEnvelope receipt) => receipt.Envelope.Conversation.Length > 0;

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            foreach (var e in envelopes)
            {
                if (e.Envelope.Conversation.Length == 0)
                {
                    store.Insert(s, e, now, committed);
                }
            }
            InsertMerged(store, s, now, committed);
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    /// <summary>Group receipts deferred with fan-out acks, inserted (coalesced) in the commit that ends their wait.</summary>
    private sealed class DeferredReceiptsOp(IReadOnlyList<QueuedEnvelope> envelopes, IReadOnlyList<GroupDelivery> deliveries) : GroupReceiptCarrier
    {
        public override bool HasCoalescible => true;

        public override IReadOnlyList<QueuedEnvelope> Receipts => envelopes;

        public override IReadOnlyList<GroupDelivery> Deliveries => deliveries;

        public override bool IsCoalescible(QueuedEnvelope receipt) => true;

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed) =>
            InsertMerged(store, s, now, committed);

        public override void Complete()
        {
        }

        public override void Fail(Exception e)
        {
        }
    }

    /// <summary>
    /// Deletes acked queue rows and queues the DELIVERY receipts they cause; those of group messages
    /// (a group id) are coalesced per commit with other members' (see <see cref="GroupReceiptCarrier.Coalesce"/>).
    /// </summary>
    private sealed class AckOp : GroupReceiptCarrier
    {
        private readonly long _deviceKey;
        // The acked seqs; null for an ack of one seq (_seq), the common case, to spare the array.
        private readonly IReadOnlyList<ulong>? _seqs;
        private readonly ulong _seq;
        private IReadOnlyList<QueuedEnvelope> _receipts;
        // Group DELIVERED as values (AckGroupDeliveryAsync: one; AckGroupDeliveriesAsync: a list) until deferred or made envelopes.
        private GroupDelivery? _delivery;
        private IReadOnlyList<GroupDelivery>? _deliveries;
        private bool _grouped;

        public AckOp(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts, IReadOnlyList<GroupDelivery>? deliveries = null)
        {
            _deviceKey = deviceKey;
            _seqs = seqs;
            _receipts = receipts;
            _grouped = AnyGrouped(receipts);
            _deliveries = deliveries is { Count: > 0 } ? deliveries : null;
        }

        public AckOp(long deviceKey, ulong seq, GroupDelivery delivery)
        {
            _deviceKey = deviceKey;
            _seq = seq;
            _receipts = [];
            _delivery = delivery;
        }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool HasCoalescible => _grouped;

        /// <summary>Whether the op still holds its group DELIVERED as values.</summary>
        public bool HasDelivery => _delivery is not null || _deliveries is not null;

        private int SeqCount => _seqs?.Count ?? 1;

        private ulong SeqAt(int i) => _seqs is null ? _seq : _seqs[i];

        /// <summary>Whether every acked seq is a fan-out seq (writer thread, before the op runs).</summary>
        public bool AllFanout(Dictionary<ulong, FanoutCopies> fanouts)
        {
            for (int i = 0; i < SeqCount; i++)
            {
                if (!fanouts.ContainsKey(SeqAt(i)))
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Hands the op's group receipts to <paramref name="into"/>; it then inserts only its others.</summary>
        public void Defer(List<QueuedEnvelope> into)
        {
            for (int i = 0; i < _receipts.Count; i++)
            {
                if (IsCoalescible(_receipts[i]))
                {
                    into.Add(_receipts[i]);
                }
            }
            _grouped = false;
        }

        /// <summary>Hands the op's group DELIVERED, as values, to <paramref name="into"/>.</summary>
        public void Defer(List<GroupDelivery> into)
        {
            if (_delivery is { } delivery)
            {
                into.Add(delivery);
                _delivery = null;
            }
            if (_deliveries is not null)
            {
                for (int i = 0; i < _deliveries.Count; i++)
                {
                    into.Add(_deliveries[i]);
                }
                _deliveries = null;
            }
        }

        /// <summary>Turns the DELIVERED held as values into envelopes, coalesced in this op's own commit like any ack's.</summary>
        public void MakeReceipts()
        {
            var all = new List<QueuedEnvelope>(_receipts);
            if (_delivery is { } delivery)
            {
                all.AddRange(delivery.ToReceipts());
            }
            for (int i = 0; _deliveries is not null && i < _deliveries.Count; i++)
            {
                all.AddRange(_deliveries[i].ToReceipts());
            }
            _receipts = all;
            _grouped = AnyGrouped(all);
            _delivery = null;
            _deliveries = null;
        }

        public override IReadOnlyList<QueuedEnvelope> Receipts => _receipts;

        public override bool IsCoalescible(QueuedEnvelope receipt) => !receipt.Envelope.GroupId.IsEmpty;

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            for (int i = 0; i < SeqCount; i++)
            {
                ulong seq = SeqAt(i);
                if (store.AckFanout(_deviceKey, seq))
                {
                    continue;
                }
                // Only a seq this device had queued: the body is deleted later by seq alone.
                if (s.Dequeue.Bind(1, (long)seq).Bind(2, _deviceKey).RunScalar() is { } size)
                {
                    if (store.ReleaseRow(seq))
                    {
                        store.OnAcked(seq);
                    }
                    store.Tally(_deviceKey, -1, -size);
                }
            }
            for (int i = 0; i < _receipts.Count; i++)
            {
                if (_receipts[i].Envelope.GroupId.IsEmpty)
                {
                    store.Insert(s, _receipts[i], now, committed);
                }
            }
            if (_grouped)
            {
                InsertMerged(store, s, now, committed);
            }
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);

        private static bool AnyGrouped(IReadOnlyList<QueuedEnvelope> receipts)
        {
            for (int i = 0; i < receipts.Count; i++)
            {
                if (!receipts[i].Envelope.GroupId.IsEmpty)
                {
                    return true;
                }
            }
            return false;
        }
    }

    private sealed class ExpireOp(long first, long last) : WriteOp
    {
        public int Deleted { get; private set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            // Queued ones count; acked bodies in the range that still wait to be deleted go too.
            Deleted = s.ExpireQueued.Bind(1, first).Bind(2, last).Run();
            Deleted += s.ExpireSharedQueued.Bind(1, first).Bind(2, last).Run();
            Deleted += store.ExpireFanouts((ulong)last);
            store._recountDue |= Deleted > 0;
            s.DeleteBodies.Bind(1, first).Bind(2, last).Run();
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    /// <summary>Deletes dedup rows by key: expired ones, or (from the trim walk) those of devices over the bound.</summary>
    private sealed class DeleteDedupOp(List<(byte[] MessageId, long Sender)> keys, bool expired) : WriteOp
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteMessageStore store, Statements s, long now, List<QueuedEnvelope> committed)
        {
            foreach (var (messageId, sender) in keys)
            {
                store.DeleteDedup(s, messageId, sender, expired);
            }
        }

        public override void Complete() => Done.TrySetResult();

        public override void Fail(Exception e) => Done.TrySetException(e);
    }
}
