using System.Text.Json;
using Microsoft.Playwright;
using Parley.Client.Storage;

namespace Parley.Web.Bench;

/// <summary>
/// A device's key-value store recorded in this process, to be written into the browser's IndexedDB:
/// the SDK (the same code the app runs) receives the long chat natively in seconds, and the page then
/// opens as that device. The browser receiving 5,000 messages itself took 757 s on the loaded VM,
/// which made the speed of a reload and of opening the chat too slow to measure more than once.
/// </summary>
public sealed class RecordedDevice : IKeyValuePersistence
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Collection, string Key), byte[]> _records = [];

    /// <summary>Rows recorded so far.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<KeyValuePair<string, byte[]>> rows = [.. _records.Where(r => r.Key.Collection == collection).Select(r => KeyValuePair.Create(r.Key.Key, r.Value))];
            return Task.FromResult(rows);
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
                if (write.Value is null)
                {
                    _records.Remove((write.Collection, write.Key));
                }
                else
                {
                    _records[(write.Collection, write.Key)] = write.Value.ToArray();
                }
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Writes every record into the page's IndexedDB database "parley" through the app's own
    /// module (the same batches the app writes), and lists <paramref name="peers"/> as the chats the
    /// app knows. The page must be on the app's origin; reload it afterwards.
    /// </summary>
    public async Task WriteIntoAsync(IPage page, IReadOnlyList<string> peers)
    {
        ArgumentNullException.ThrowIfNull(page);
        List<KeyValuePair<(string Collection, string Key), byte[]>> all;
        lock (_gate)
        {
            all = [.. _records];
        }
        foreach (var chunk in all.Chunk(500))
        {
            var batch = JsonSerializer.Serialize(chunk.Select(r => new[] { r.Key.Collection, r.Key.Key, Convert.ToBase64String(r.Value) }));
            await page.EvaluateAsync("""
                async json => {
                  const rows = JSON.parse(json);
                  const store = await import('/_content/Parley.Client.Browser/parley-store.js');
                  await store.open('parley');
                  const parts = rows.map(r => Uint8Array.from(atob(r[2]), c => c.charCodeAt(0)));
                  const values = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
                  let offset = 0;
                  for (const p of parts) { values.set(p, offset); offset += p.length; }
                  await store.write('parley', rows.map(r => r[0]), rows.map(r => r[1]), parts.map(p => p.length), values);
                }
                """, batch);
        }
        await page.EvaluateAsync("peers => localStorage.setItem('parley.peers', JSON.stringify(peers))", peers);
    }
}
