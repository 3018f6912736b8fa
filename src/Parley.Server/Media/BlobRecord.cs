namespace Parley.Server.Media;

/// <summary>
/// One upload in the media store, unfinished or finished. The server knows its owner, its length
/// and its times, never what it holds: the bytes are ciphertext made by the client.
/// </summary>
/// <param name="Id">The 128-bit random capability, as 32 lower-case hex characters.</param>
/// <param name="AccountId">The account whose device created it; only that account may append or delete.</param>
/// <param name="Length">The announced total length (tus Upload-Length).</param>
/// <param name="Offset">Bytes stored so far; equal to <paramref name="Length"/> once finished.</param>
/// <param name="CreatedAt">When the upload was created, unix milliseconds.</param>
/// <param name="CompletedAt">When the last byte was stored, unix milliseconds; null while unfinished.</param>
public sealed record BlobRecord(string Id, long AccountId, long Length, long Offset, long CreatedAt, long? CompletedAt)
{
    /// <summary>True once every announced byte is stored.</summary>
    public bool IsComplete => CompletedAt is not null;
}
