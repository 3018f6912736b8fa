using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Configuration;

namespace Parley.Server.Media;

/// <summary>
/// The filesystem backend of the media store, in <c>DATA/media</c>: per id, <c>ID.meta</c> (owner,
/// length, times), <c>ID.part</c> while unfinished and <c>ID.blob</c> once finished. The offset is
/// the length of the <c>.part</c> file, flushed to disk before an append returns, so a resume after
/// a crash continues from bytes that are really there. Finishing is a rename, so a reader never sees
/// a half-written blob.
/// </summary>
public sealed class FileBlobStore : IBlobStore
{
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly int _bufferBytes;

    public FileBlobStore(IOptions<ParleyOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = Path.Combine(options.Value.DataDir, "media");
        _time = time;
        _bufferBytes = Math.Max(4096, options.Value.Media.StreamBufferBytes);
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc />
    public async Task CreateAsync(BlobRecord upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        await using (new FileStream(PathOf(upload.Id, ".part"), FileMode.CreateNew, FileAccess.Write))
        {
        }
        await WriteMetaAsync(upload, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<BlobRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!MediaApi.IsValidId(id))
        {
            return null;
        }
        Meta? meta;
        try
        {
            await using var file = File.OpenRead(PathOf(id, ".meta"));
            meta = await JsonSerializer.DeserializeAsync<Meta>(file, ParleyJson.Options, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
        if (meta is null)
        {
            return null;
        }
        var blob = new FileInfo(PathOf(id, ".blob"));
        if (blob.Exists)
        {
            return new BlobRecord(id, meta.AccountId, meta.Length, blob.Length, meta.CreatedAt,
                meta.CompletedAt ?? new DateTimeOffset(blob.LastWriteTimeUtc).ToUnixTimeMilliseconds());
        }
        var part = new FileInfo(PathOf(id, ".part"));
        return part.Exists ? new BlobRecord(id, meta.AccountId, meta.Length, part.Length, meta.CreatedAt, null) : null;
    }

    /// <inheritdoc />
    public async Task<BlobRecord> AppendAsync(BlobRecord upload, Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(source);
        var path = PathOf(upload.Id, ".part");
        long offset = upload.Offset;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_bufferBytes);
        // No FileStream buffer: the pooled buffer already batches, and a second copy would cost memory per upload.
        var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
        try
        {
            file.Seek(offset, SeekOrigin.Begin);
            long left = maxBytes;
            while (left > 0)
            {
                // Fill the buffer before writing: the body arrives in small socket-sized pieces, and one
                // write per buffer instead of per piece saves most of the syscalls.
                int want = (int)Math.Min(buffer.Length, left);
                int n = 0;
                try
                {
                    while (n < want && await source.ReadAsync(buffer.AsMemory(n, want - n), cancellationToken) is > 0 and var read)
                    {
                        n += read;
                    }
                }
                catch when (n > 0)
                {
                    // Keep what arrived before the source failed, not only whole buffers: a link that drops
                    // before a buffer's worth gets through would otherwise never move the offset at all.
                    await file.WriteAsync(buffer.AsMemory(0, n), CancellationToken.None);
                    throw;
                }
                if (n == 0)
                {
                    break;
                }
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                offset += n;
                left -= n;
            }
        }
        finally
        {
            try
            {
                // What arrived is kept, even when the client went away mid-body: the offset it resumes from must be on disk.
                file.Flush(flushToDisk: true);
            }
            finally
            {
                // Even when the flush fails too: no file handle or pooled buffer may leak per failed upload.
                await file.DisposeAsync();
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if (offset < upload.Length)
        {
            return upload with { Offset = offset };
        }
        File.Move(path, PathOf(upload.Id, ".blob"));
        var done = upload with { Offset = offset, CompletedAt = _time.GetUtcNow().ToUnixTimeMilliseconds() };
        await WriteMetaAsync(done, CancellationToken.None);
        return done;
    }

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string id, CancellationToken cancellationToken)
    {
        if (!MediaApi.IsValidId(id))
        {
            return Task.FromResult<Stream?>(null);
        }
        try
        {
            Stream stream = new FileStream(PathOf(id, ".blob"), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!MediaApi.IsValidId(id))
        {
            return Task.FromResult(false);
        }
        bool existed = false;
        // Data first, metadata last: a crash in between leaves a .meta the sweeper finds and removes.
        foreach (var extension in (string[])[".blob", ".part", ".meta", ".meta.tmp"])
        {
            var path = PathOf(id, extension);
            if (File.Exists(path))
            {
                File.Delete(path);
                existed = true;
            }
        }
        return Task.FromResult(existed);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobRecord> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(_root, "*.meta"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = Path.GetFileNameWithoutExtension(path);
            listed.Add(id);
            var record = await FindAsync(id, cancellationToken);
            if (record is not null)
            {
                yield return record;
            }
            else if (MediaApi.IsValidId(id))
            {
                // Metadata without data (a crash mid-delete): list it as an empty, long-expired upload so it is swept.
                yield return new BlobRecord(id, 0, 1, 0, 0, null);
            }
        }
        foreach (var path in Directory.EnumerateFiles(_root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            var id = name.Split('.')[0];
            if (!MediaApi.IsValidId(id) || listed.Contains(id) || File.Exists(PathOf(id, ".meta")))
            {
                continue;
            }
            listed.Add(id);
            // Data or a half-written .meta.tmp without metadata (a crash while creating or finishing): nothing
            // else finds it, so it is listed as an unfinished upload made when the file was last written,
            // swept once that expires (not at once: it may be an upload being created right now).
            var written = new DateTimeOffset(File.GetLastWriteTimeUtc(path)).ToUnixTimeMilliseconds();
            yield return new BlobRecord(id, 0, 1, 0, written, null);
        }
    }

    private string PathOf(string id, string extension) => Path.Combine(_root, id + extension);

    private async Task WriteMetaAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        var path = PathOf(record.Id, ".meta");
        var temp = path + ".tmp";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            await JsonSerializer.SerializeAsync(file, new Meta(record.AccountId, record.Length, record.CreatedAt, record.CompletedAt), ParleyJson.Options, cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    private sealed record Meta(long AccountId, long Length, long CreatedAt, long? CompletedAt);
}
