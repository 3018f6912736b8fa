namespace Parley.Client.Media;

/// <summary>
/// Progress of one attachment transfer: raised at the resume point, then every few hundred KiB,
/// and once at the end (<see cref="BytesDone"/> = <see cref="TotalBytes"/>). Bytes are ciphertext bytes.
/// </summary>
/// <param name="MessageId">The message the attachment belongs to.</param>
/// <param name="Direction">Upload or download.</param>
/// <param name="FileName">The file's name (no folders).</param>
/// <param name="BytesDone">Bytes the server holds (upload) or this device holds (download), including those from earlier attempts.</param>
/// <param name="TotalBytes">The blob's length.</param>
/// <param name="BytesPerSecond">Rate over this attempt so far.</param>
/// <param name="ResumedFrom">Where this attempt started: above 0 when it continued an earlier, interrupted one.</param>
public sealed record TransferProgressEventArgs(
    string MessageId, TransferDirection Direction, string FileName, long BytesDone, long TotalBytes, double BytesPerSecond, long ResumedFrom);
