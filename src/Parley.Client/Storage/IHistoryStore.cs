using Parley.Client.History;

namespace Parley.Client.Storage;

/// <summary>
/// The history half of a client store: what an approving device reads to send a newly linked
/// device, and what the new device has still to import of what it was sent.
/// </summary>
internal interface IHistoryStore
{
    /// <summary>
    /// The stored messages written at or after <paramref name="sentAtFrom"/> (unix milliseconds,
    /// the sender's clock), of every conversation, in this device's conversation order (the order
    /// they were stored), with their current status.
    /// </summary>
    IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom);

    /// <summary>
    /// Records the history this device was sent at its link, before it imports any of it:
    /// <paramref name="chunks"/> (serialized AttachmentPointers, oldest first, numbered from 1) and
    /// the <paramref name="messages"/> they hold. Replaces any history still pending.
    /// </summary>
    void SavePendingHistory(IReadOnlyList<byte[]> chunks, int messages);

    /// <summary>The history still to import, or null when none is left.</summary>
    PendingHistory? PendingHistory();

    /// <summary>
    /// Takes chunk <paramref name="number"/> off the pending history, counting its
    /// <paramref name="messages"/> as done (0 for a chunk dropped unimported); once none is left the
    /// pending history is gone. A chunk already taken off changes nothing. Statement-level: call it
    /// inside <see cref="IClientStore.Atomically{T}"/> with the chunk's messages, so both commit together.
    /// </summary>
    void CompletePendingHistoryChunk(int number, int messages);
}
