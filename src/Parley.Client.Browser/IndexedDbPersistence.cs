using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using System.Text.Json;
using Parley.Client.Storage;

namespace Parley.Client.Browser;

/// <summary>
/// The browser's <see cref="IKeyValuePersistence"/>: IndexedDB through wwwroot/parley-store.js
/// (served as <c>_content/Parley.Client.Browser/parley-store.js</c>). Survives reloads and browser
/// restarts. A batch is one strict-durability transaction, so it is applied whole or not at all;
/// a refusal (for example QuotaExceededError when storage is full) faults the returned task.
/// Open one per database with <see cref="OpenAsync"/> and hand it to <see cref="ParleyClient.OpenAsync"/>
/// or <see cref="ParleyClient.RegisterAsync(IKeyValuePersistence, Uri, string, string?, string?, string?, ParleyClientOptions?, CancellationToken)"/>.
/// </summary>
[SupportedOSPlatform("browser")]
public sealed partial class IndexedDbPersistence : IKeyValuePersistence
{
    private const string Module = "parley-store";

    /// <summary>Where the module is served, relative to the runtime's <c>_framework/</c> folder.</summary>
    public const string DefaultModulePath = "../_content/Parley.Client.Browser/parley-store.js";

    private static readonly Lock ImportGate = new();
    private static Task? s_import;

    private readonly string _database;

    private IndexedDbPersistence(string database) => _database = database;

    /// <summary>Loads the JS module (once) and opens (creating when needed) the IndexedDB database <paramref name="database"/>.</summary>
    public static async Task<IndexedDbPersistence> OpenAsync(string database = "parley", string modulePath = DefaultModulePath,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        Task import;
        lock (ImportGate)
        {
            import = s_import ??= JSHost.ImportAsync(Module, modulePath, cancellationToken);
        }
        await import;
        await OpenDatabase(database);
        return new IndexedDbPersistence(database);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default)
    {
        using var result = await ReadAll(_database, collection);
        var keys = JsonSerializer.Deserialize<string[]>(result.GetPropertyAsString("keys") ?? "[]") ?? [];
        var lengths = JsonSerializer.Deserialize<int[]>(result.GetPropertyAsString("lengths") ?? "[]") ?? [];
        var values = result.GetPropertyAsByteArray("values") ?? [];
        if (keys.Length != lengths.Length || lengths.Sum(l => (long)l) != values.Length)
        {
            throw new InvalidDataException($"IndexedDB returned an inconsistent read of {collection}.");
        }
        var rows = new List<KeyValuePair<string, byte[]>>(keys.Length);
        var offset = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            rows.Add(KeyValuePair.Create(keys[i], values.AsSpan(offset, lengths[i]).ToArray()));
            offset += lengths[i];
        }
        return rows;
    }

    /// <inheritdoc />
    public async Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        if (writes.Count == 0)
        {
            return;
        }
        var collections = new string[writes.Count];
        var keys = new string[writes.Count];
        var lengths = new int[writes.Count];
        var values = new byte[writes.Sum(w => w.Value?.Length ?? 0)];
        var offset = 0;
        for (var i = 0; i < writes.Count; i++)
        {
            collections[i] = writes[i].Collection;
            keys[i] = writes[i].Key;
            if (writes[i].Value is { } value)
            {
                lengths[i] = value.Length;
                value.CopyTo(values, offset);
                offset += value.Length;
            }
            else
            {
                lengths[i] = -1;
            }
        }
        await Write(_database, collections, keys, lengths, values);
    }

    [JSImport("open", Module)]
    private static partial Task OpenDatabase(string name);

    [JSImport("readAll", Module)]
    private static partial Task<JSObject> ReadAll(string name, string collection);

    [JSImport("write", Module)]
    private static partial Task Write(string name, string[] collections, string[] keys,
        [JSMarshalAs<JSType.Array<JSType.Number>>] int[] lengths, [JSMarshalAs<JSType.Array<JSType.Number>>] byte[] values);
}
