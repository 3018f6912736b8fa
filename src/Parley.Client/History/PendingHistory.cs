namespace Parley.Client.History;

/// <summary>
/// The history a newly linked device has still to import, kept in its store so that an import cut
/// short (server away, process killed, app closed) continues on the next connect.
/// </summary>
/// <param name="Chunks">The chunks not yet imported nor dropped, in the bundle's order.</param>
/// <param name="ChunkCount">Chunks in the whole bundle.</param>
/// <param name="MessageCount">Messages in the whole bundle, as the approving device counted them.</param>
/// <param name="MessagesDone">Messages in the chunks imported so far.</param>
internal sealed record PendingHistory(IReadOnlyList<PendingHistoryChunk> Chunks, int ChunkCount, int MessageCount, int MessagesDone);
