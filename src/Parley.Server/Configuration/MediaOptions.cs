using Parley.Protocol;

namespace Parley.Server.Configuration;

/// <summary>
/// Limits of the media store (section "Parley:Media"), each with why it has its value. The store
/// holds only ciphertext; these bound what one account can make the server keep.
/// </summary>
public sealed class MediaOptions
{
    /// <summary>
    /// Largest upload in bytes (the Upload-Length of a tus creation): a 100 MiB file once padded to
    /// its size bucket and wrapped with IV and MAC (<see cref="WireLimits.MaxAttachmentBlobBytes"/>).
    /// </summary>
    public long MaxUploadBytes { get; set; } = WireLimits.MaxAttachmentBlobBytes;

    /// <summary>
    /// Unfinished uploads one account may have at once: an album of photos sent in parallel, yet
    /// too few for one account to hold many open files and half-written blobs.
    /// </summary>
    public int MaxConcurrentUploadsPerAccount { get; set; } = 10;

    /// <summary>
    /// Bytes one account may announce for upload in any 24 hours: twenty full-size (100 MiB) files,
    /// far above what a person sends, small enough that one account cannot fill the disk in a day.
    /// </summary>
    public long BytesPerDayPerAccount { get; set; } = 20 * WireLimits.MaxAttachmentBlobBytes;

    /// <summary>
    /// Uploads one account may create in any 24 hours, empty ones included. Each is files on disk
    /// (and an entry in the quota ledger) whatever its length, so the byte quota alone lets
    /// empty or one-byte uploads pile up without end; a thousand is several large albums a day.
    /// </summary>
    public int UploadsPerDayPerAccount { get; set; } = 1000;

    /// <summary>Hours an unfinished upload can be resumed: a day covers a phone that is offline overnight.</summary>
    public int UnfinishedExpiryHours { get; set; } = 24;

    /// <summary>Days a finished blob is kept: as long as an undelivered message (Limits.EnvelopeTtlDays), so every pointer can still be fetched.</summary>
    public int BlobTtlDays { get; set; } = 30;

    /// <summary>Minutes between sweeps of expired uploads and blobs: expiry is a storage bound, not a deadline, so a few minutes late is fine.</summary>
    public int SweepIntervalMinutes { get; set; } = 10;

    /// <summary>Bytes of the pooled buffer each PATCH streams through: big enough for few syscalls, small enough that many uploads stay cheap.</summary>
    public int StreamBufferBytes { get; set; } = 256 * 1024;
}
