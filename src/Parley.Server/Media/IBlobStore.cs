namespace Parley.Server.Media;

/// <summary>
/// Where media ciphertext lives. The default backend is the filesystem under the data folder
/// (<see cref="FileBlobStore"/>); a cluster needs a backend every node shares. Implementations
/// stream: no call may hold a whole blob in memory.
/// </summary>
public interface IBlobStore
{
    /// <summary>Creates an empty upload; its id is new (random), so creation never collides.</summary>
    Task CreateAsync(BlobRecord upload, CancellationToken cancellationToken);

    /// <summary>The upload or blob with its current offset; null when unknown or deleted.</summary>
    Task<BlobRecord?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Appends at most <paramref name="maxBytes"/> bytes of <paramref name="source"/> at the
    /// upload's current offset (the caller has checked it and holds the upload exclusively) and
    /// returns the record after the write. Bytes that arrived before the source failed are kept
    /// durably; the exception then propagates. Reaching the announced length finishes the blob.
    /// </summary>
    Task<BlobRecord> AppendAsync(BlobRecord upload, Stream source, long maxBytes, CancellationToken cancellationToken);

    /// <summary>A seekable read stream over a finished blob; null when it is unknown or unfinished.</summary>
    Task<Stream?> OpenReadAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes the upload or blob; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every upload and blob, for the sweeper and the quota ledger at start.</summary>
    IAsyncEnumerable<BlobRecord> ListAsync(CancellationToken cancellationToken);
}
