namespace Parley.Client.Storage;

/// <summary>
/// Where a client store lives when there is no SQLite (the browser): named collections of
/// key → bytes. The store keeps everything in memory and writes through this in batches; it reads
/// each collection once, when it opens. Implementations: IndexedDB (Parley.Client.Browser) and
/// <see cref="InMemoryPersistence"/> (tests, or a device that should forget everything).
/// </summary>
public interface IKeyValuePersistence
{
    /// <summary>Every key and value of <paramref name="collection"/> (empty when it has none), in any order.</summary>
    Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies <paramref name="writes"/> all or nothing: a write with a value puts it, one without
    /// deletes the key. Completes once the writes are durable; throws when they are refused (for
    /// example storage full), in which case none of them was applied.
    /// </summary>
    Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default);
}
