namespace Parley.Client.Storage;

/// <summary>
/// An <see cref="IKeyValuePersistence"/> in this process's memory: what is written survives
/// reopening a store over the same instance, never the process. Thread-safe. For tests, and for a
/// device that must keep nothing.
/// </summary>
public sealed class InMemoryPersistence : IKeyValuePersistence
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, byte[]>> _collections = new(StringComparer.Ordinal);

    /// <summary>Number of batches written so far.</summary>
    public int Batches { get; private set; }

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<KeyValuePair<string, byte[]>> all = _collections.TryGetValue(collection, out var rows)
                ? [.. rows.Select(r => KeyValuePair.Create(r.Key, r.Value.ToArray()))]
                : [];
            return Task.FromResult(all);
        }
    }

    /// <inheritdoc />
    public Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        lock (_gate)
        {
            foreach (var write in writes)
            {
                if (!_collections.TryGetValue(write.Collection, out var rows))
                {
                    rows = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    _collections[write.Collection] = rows;
                }
                if (write.Value is null)
                {
                    rows.Remove(write.Key);
                }
                else
                {
                    rows[write.Key] = write.Value.ToArray();
                }
            }
            Batches++;
        }
        return Task.CompletedTask;
    }
}
