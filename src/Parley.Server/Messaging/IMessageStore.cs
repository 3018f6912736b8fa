using Parley.Protocol;

namespace Parley.Server.Messaging;

/// <summary>
/// The durable per-device queues. Writes are group-committed: a returned task completes only
/// after its transaction is durable, and the committed envelopes are handed to the
/// <see cref="IEnvelopeSink"/> in seq order before that.
/// </summary>
public interface IMessageStore
{
    /// <summary>
    /// Appends envelopes, assigning each a seq. With a dedup key seen before, appends nothing and
    /// returns false (the caller answers SENT again).
    /// </summary>
    Task<bool> AppendAsync(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes);

    /// <summary>
    /// Appends group READ receipts like <see cref="AppendAsync"/> (durable when the task completes),
    /// but those bound for another user's device that share a commit with other readers' receipts
    /// of the same group are coalesced into one envelope of <see cref="Envelope.Receipts"/> entries.
    /// </summary>
    Task AppendGroupReceiptsAsync(IReadOnlyList<QueuedEnvelope> envelopes);

    /// <summary>
    /// Appends one envelope for many devices (a group message): the body is stored once, with its
    /// recipient device set, under one seq, and every device's queue holds it until that device acks.
    /// With a dedup key seen before, appends nothing and returns false.
    /// </summary>
    Task<bool> AppendFanoutAsync(DedupKey? dedup, Envelope envelope, IReadOnlyList<long> deviceKeys);

    /// <summary>
    /// Deletes acked envelopes of one device and appends the receipts they cause, atomically. Receipts
    /// with a group id (DELIVERED for group messages) are coalesced like group READs with other
    /// members' receipts of the same commit, for the same device and group.
    /// </summary>
    Task AckAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts);

    /// <summary>
    /// <see cref="AckAsync"/> of one envelope that causes one group DELIVERED (a member device acking
    /// a group message): the same outcome as <c>AckAsync(deviceKey, [seq], delivery.ToReceipts())</c>,
    /// which is what a store without a cheaper path does.
    /// </summary>
    Task AckGroupDeliveryAsync(long deviceKey, ulong seq, GroupDelivery delivery) => AckAsync(deviceKey, [seq], delivery.ToReceipts());

    /// <summary>
    /// <see cref="AckAsync"/> whose group DELIVERED receipts come as values (<paramref name="deliveries"/>,
    /// one per acked group message) beside the other <paramref name="receipts"/>: the same outcome as
    /// <see cref="AckAsync"/> with every delivery's <see cref="GroupDelivery.ToReceipts"/> added to them.
    /// </summary>
    Task AckGroupDeliveriesAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts, IReadOnlyList<GroupDelivery> deliveries)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        var all = new List<QueuedEnvelope>(receipts);
        foreach (var delivery in deliveries)
        {
            all.AddRange(delivery.ToReceipts());
        }
        return AckAsync(deviceKey, seqs, all);
    }

    /// <summary>Reads a device's queue in order, after <paramref name="afterSeq"/>.</summary>
    IReadOnlyList<Envelope> ReadQueue(long deviceKey, ulong afterSeq, int limit);

    /// <summary>
    /// What the device's queue holds, from memory (kept by the writer as it commits): exact after
    /// each commit, so a check before an append can overshoot only by the appends in flight.
    /// </summary>
    QueueUsage Usage(long deviceKey);

    /// <summary>
    /// The ids among <paramref name="messageIds"/> that a device of <paramref name="senderAccount"/> sent to
    /// <paramref name="recipientAccount"/> within the dedup window. Reads the database (one indexed lookup per id).
    /// </summary>
    IReadOnlyList<Google.Protobuf.ByteString> SentTo(long senderAccount, long recipientAccount, IReadOnlyList<Google.Protobuf.ByteString> messageIds);

    /// <summary>Deletes envelopes past their expiry and dedup entries past their window; returns envelopes deleted.</summary>
    Task<int> DeleteExpiredAsync(long nowUnixMs, long dedupBeforeUnixMs);
}
