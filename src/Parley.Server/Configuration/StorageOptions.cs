namespace Parley.Server.Configuration;

/// <summary>Embedded storage settings.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// SQLite synchronous mode. Full (default) fsyncs the WAL at every group commit, so SENT
    /// survives power loss; Normal survives a process crash but not power loss, for more speed.
    /// </summary>
    public SynchronousMode Synchronous { get; set; } = SynchronousMode.Full;

    /// <summary>
    /// SQLite secure_delete=FAST (default on): deleted envelope bodies and dedup entries are zeroed
    /// in the pages a commit writes anyway, so delivered messages do not linger in the file. Off
    /// only to measure what it costs (docs/performance.md).
    /// </summary>
    public bool SecureDelete { get; set; } = true;

    /// <summary>Most operations folded into one group-commit transaction.</summary>
    public int MaxBatch { get; set; } = 4096;

    /// <summary>
    /// How long an ack of a group message (a fan-out envelope) may stay in memory only before the
    /// store persists it, as the device's fan-out mark. 1000 ms: a member device acks tens of group
    /// messages a second under load, and their marks cost one small row per device per flush
    /// instead of a row per message; a crash redelivers at most this long's acks, which the
    /// clients' inbox dedup drops. A clean stop persists them all.
    /// </summary>
    public int FanoutAckFlushMs { get; set; } = 1000;

    /// <summary>
    /// How long after the previous commit began a small batch waits for company before it commits
    /// (while operations keep coming). A commit's fixed cost (the fsync, the rewritten hot pages,
    /// the writer's wake-ups) dominates at everyday rates, so a longer interval costs latency and
    /// saves CPU per message. 10 ms by default: against 4 ms it cut CPU per message by 15–17% at
    /// 1,000 and 3,000 msgs/s on the idle VM, for about 4 ms more at p50 (SENT in 7 ms instead of
    /// 3); a lone client's send still commits after 1 ms, and at high rates
    /// <see cref="CommitBatch"/> ends the wait first (docs/performance.md, "Fewer wake-ups per message").
    /// </summary>
    public int CommitIntervalMs { get; set; } = 10;

    /// <summary>
    /// A waiting batch commits at once when this many operations are queued, whatever the
    /// interval: a batch this size shares the commit's fixed cost well, and waiting longer would
    /// only add latency. 128: at 10,000 msgs/s (about 30,000 operations a second) a commit then
    /// comes about every 4 ms, as before the 10 ms interval, so the tail at high rates stays put.
    /// </summary>
    public int CommitBatch { get; set; } = 128;

    /// <summary>
    /// How often the checkpointer copies the WAL back into the database file. A pass copies each
    /// page the commits since the last pass changed once, however many of them rewrote it, and the
    /// hot pages (the queue, the newest bodies and dedup rows, the fan-out marks) are rewritten by
    /// nearly every commit: so a longer interval writes fewer page images. 2000 ms: against 500 ms
    /// it cut the bytes written per message by 13% for one-to-one at 1,000 msgs/s and by 21% for a
    /// 1,024-member group message at 20 msgs/s, with no CPU cost measured; the WAL holds up to that
    /// long's commits in exchange (docs/performance.md, "The checkpoint interval (stop 15)").
    /// </summary>
    public int CheckpointIntervalMs { get; set; } = 2000;

    /// <summary>
    /// How long the group DELIVERY receipts caused by fan-out acks wait in memory before the store
    /// writes them, coalesced: one envelope per message (ids named once, member devices as a
    /// recipient set) per sender device for everything acked in the window, instead of a commit
    /// for every few acks. 250 ms: at 20 group messages a second into 1,024-member groups the
    /// acks' commits were most of the bytes written, and a quarter second later is still
    /// "at once" for a tick. Never later than the marks (<see cref="FanoutAckFlushMs"/>): a crash
    /// can lose the receipts only with their acks, which are then made again by the redelivery.
    /// </summary>
    public int GroupReceiptFlushMs { get; set; } = 250;

    /// <summary>
    /// SQLite page size of a new database (an existing file keeps its own). 2048: every commit
    /// rewrites whole pages (in the WAL, then again at checkpoint), and at everyday rates a commit
    /// carries one group message or a few 1:1 ones, so half-size pages cut the bytes written per
    /// 1024-member group message at 20 msgs/s from about 70 KB to 60 KB; flat out, 1:1 throughput
    /// was the same within this VM's noise (docs/performance.md, "The page size").
    /// </summary>
    public int PageSize { get; set; } = 2048;
}
