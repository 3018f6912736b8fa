using Parley.Client.Media;

namespace Parley.Client.History;

/// <summary>
/// Where the history of a link stands: reported once before the first chunk, after each chunk, and
/// once at the end (<see cref="Done"/>, or <see cref="Failure"/> when it stopped). On the new device
/// an import resumed on a later connect reports the same way, from where it stands.
/// </summary>
/// <param name="Direction">Upload on the approving device, Download on the new one.</param>
/// <param name="ChunksDone">Chunks uploaded (or downloaded and stored, or dropped) so far.</param>
/// <param name="Chunks">Chunks in the bundle (0 when there is no history to move).</param>
/// <param name="MessagesDone">Messages in the chunks done so far.</param>
/// <param name="Messages">Messages in the whole bundle.</param>
/// <param name="Done">True on the last report, once no chunk is left to move (chunks dropped on the way were reported with a <see cref="Failure"/>).</param>
/// <param name="Failure">
/// Why the history stopped (the link itself still stands; on the new device the rest follows on its
/// next connect), or why a chunk was dropped (it failed its check or is gone from the server); null otherwise.
/// </param>
public sealed record HistoryProgress(TransferDirection Direction, int ChunksDone, int Chunks, int MessagesDone, int Messages, bool Done,
    string? Failure = null);
