using Parley.Client.Media;

namespace Parley.Client.History;

/// <summary>
/// Where the history of a link stands: reported once before the first chunk, after each chunk, and
/// once at the end (<see cref="Done"/>, or <see cref="Failure"/> when it stopped).
/// </summary>
/// <param name="Direction">Upload on the approving device, Download on the new one.</param>
/// <param name="ChunksDone">Chunks uploaded (or downloaded and stored) so far.</param>
/// <param name="Chunks">Chunks in the bundle (0 when there is no history to move).</param>
/// <param name="MessagesDone">Messages in the chunks done so far.</param>
/// <param name="Messages">Messages in the whole bundle.</param>
/// <param name="Done">True on the last report of a bundle that was moved whole.</param>
/// <param name="Failure">Why the history stopped (the link itself still stands); null otherwise.</param>
public sealed record HistoryProgress(TransferDirection Direction, int ChunksDone, int Chunks, int MessagesDone, int Messages, bool Done,
    string? Failure = null);
