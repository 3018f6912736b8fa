using Parley.Client.Storage;
using Parley.Crypto.PreKeys;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>The store contract on the browser's key-value store (over memory), and what only that store has: batched, explicit durability.</summary>
public sealed class KeyValueClientStoreTests : ClientStoreContractTests
{
    private InMemoryPersistence? _persistence;

    private protected override IClientStore OpenStore() =>
        KeyValueClientStore.LoadAsync(_persistence ??= new InMemoryPersistence(), CancellationToken.None).GetAwaiter().GetResult();

    [Fact]
    public async Task A_store_reloaded_after_a_flush_has_every_change_and_one_batch_holds_many()
    {
        var persistence = new InMemoryPersistence();
        using var store = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        for (var i = 0; i < 50; i++)
        {
            var id = MessageId.New();
            store.AddOutgoing(id, "bob", "alice", 1, $"m{i}", i, [1]);
        }
        await store.FlushAsync();
        Assert.InRange(persistence.Batches, 1, 50);

        using var reloaded = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        Assert.Equal(50, reloaded.OutboxCount());
        Assert.Equal("m49", reloaded.Conversation("bob", 1).Single().Text);
    }

    [Fact]
    public async Task A_message_row_in_the_stored_format_reads_back_with_its_status_and_shown_mark()
    {
        // A row as stored in IndexedDB (declared names, enums as numbers): the format existing browsers hold.
        var id = MessageId.New();
        var persistence = new InMemoryPersistence();
        var row = $$"""{"Id":"{{Convert.ToBase64String(id)}}","Sender":"bob","SenderDevice":1,"Peer":"bob","Direction":0,"Text":"from before","SentAt":1700000000000,"Status":2,"Shown":true,"Order":7}""";
        await persistence.WriteAsync([new PersistedWrite("messages", $"bob/{Convert.ToHexString(id)}", System.Text.Encoding.UTF8.GetBytes(row))]);

        using var store = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        var message = Assert.Single(store.Conversation("bob", 10));
        Assert.Equal((MessageId.ToText(id), "from before", MessageDirection.Incoming, MessageStatus.Delivered), (message.Id, message.Text, message.Direction, message.Status));
        Assert.Empty(store.TakeUnshown());
    }

    [Fact]
    public async Task Message_rows_as_the_store_writes_them_are_read_without_the_general_deserializer()
    {
        var persistence = new InMemoryPersistence();
        using (var store = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None))
        {
            store.AddOutgoing(MessageId.New(), "bob", "alice", 1, "quote \" and ünïcode", 1, [1]);
            var id = MessageId.New();
            store.InsertReceived(new StoredMessage(MessageId.ToText(id), "bob", MessageDirection.Incoming, "bob", 3, "hi",
                DateTimeOffset.FromUnixTimeMilliseconds(2), MessageStatus.Delivered), id);
            await store.FlushAsync();
        }
        var rows = await persistence.ReadAllAsync("messages");
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.True(KeyValueClientStore.ReadsMessageRowByHand(row.Value)));

        using var reloaded = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        Assert.Equal(["quote \" and ünïcode", "hi"], reloaded.Conversation("bob", 10).Select(m => m.Text));
        Assert.Equal([1u, 3u], reloaded.Conversation("bob", 10).Select(m => m.SenderDevice));
    }

    [Fact]
    public async Task A_message_row_with_fields_the_store_does_not_know_still_reads_back()
    {
        // A row another build wrote (fields in another order, one more field): not the hand-read format, so the deserializer reads it.
        var id = MessageId.New();
        var persistence = new InMemoryPersistence();
        var row = $$"""{"Order":3,"Text":"from elsewhere","Peer":"carol","Sender":"carol","SenderDevice":2,"Direction":0,"SentAt":1700000000000,"Status":3,"Shown":false,"Id":"{{Convert.ToBase64String(id)}}","Reaction":"+1"}""";
        await persistence.WriteAsync([new PersistedWrite("messages", $"carol/{Convert.ToHexString(id)}", System.Text.Encoding.UTF8.GetBytes(row))]);

        using var store = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        var message = Assert.Single(store.Conversation("carol", 10));
        Assert.Equal((MessageId.ToText(id), "from elsewhere", "carol", 2u, MessageStatus.Read), (message.Id, message.Text, message.Sender, message.SenderDevice, message.Status));
        Assert.Single(store.TakeUnshown());
    }

    [Fact]
    public async Task Refused_writes_throw_storage_failed_and_are_written_by_the_next_flush()
    {
        var persistence = new RefusingPersistence();
        using var store = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        persistence.Refuse = true;
        store.StorePreKey(1, PreKeyRecord.Generate(1));
        var e = await Assert.ThrowsAsync<ParleyException>(() => store.FlushAsync());
        Assert.Equal("storage_failed", e.ApiCode);

        persistence.Refuse = false;
        await store.FlushAsync();
        using var reloaded = await KeyValueClientStore.LoadAsync(persistence, CancellationToken.None);
        Assert.True(reloaded.ContainsPreKey(1));
    }

    /// <summary>Memory that can refuse writes, as a full IndexedDB quota does.</summary>
    [Fact]
    public async Task Every_collection_is_read_at_once_and_rows_arriving_in_any_order_load_whole()
    {
        var inner = new InMemoryPersistence();
        var received = MessageId.New();
        using (var store = await KeyValueClientStore.LoadAsync(inner, CancellationToken.None))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(new Uri("http://127.0.0.1:9/"), "alice", 2, "secret"));
            store.AddOutgoing(MessageId.New(), "bob", "alice", 2, "first", 1, [1]);
            store.AddOutgoing(MessageId.New(), "bob", "alice", 2, "second", 2, [2]);
            store.InsertReceived(new StoredMessage(MessageId.ToText(received), "bob", MessageDirection.Incoming, "bob", 1, "from bob",
                DateTimeOffset.FromUnixTimeMilliseconds(3), MessageStatus.Delivered), received);
            store.StorePreKey(5, PreKeyRecord.Generate(5));
            await store.FlushAsync();
        }

        var gated = new GatedPersistence(inner);
        var loading = KeyValueClientStore.LoadAsync(gated, CancellationToken.None);
        // Every collection was asked for before any answer came (a start waits for one round trip, not one per collection).
        Assert.False(loading.IsCompleted);
        Assert.Contains("messages", gated.Asked);
        Assert.Contains("config", gated.Asked);
        Assert.Contains("prekeys", gated.Asked);
        Assert.True(gated.Asked.Count >= 20, $"only {gated.Asked.Count} collections were asked for before the first answer");
        gated.AnswerInReverseOnOtherThreads();

        using var loaded = await loading;
        Assert.Equal("alice", loaded.LoadCredentials()?.User);
        Assert.Equal(2, loaded.OutboxCount());
        Assert.True(loaded.ContainsPreKey(5));
        Assert.False(loaded.InsertReceived(new StoredMessage(MessageId.ToText(received), "bob", MessageDirection.Incoming, "bob", 1, "again",
            DateTimeOffset.FromUnixTimeMilliseconds(4), MessageStatus.Delivered), received));
        // A new message goes after the loaded ones (store order continues from the loaded rows).
        loaded.AddOutgoing(MessageId.New(), "bob", "alice", 2, "third", 4, [3]);
        Assert.Equal(["first", "second", "from bob", "third"], loaded.Conversation("bob", 10).Select(m => m.Text));
    }

    // Holds every read until the test answers them, then answers the last asked first, each on a pool thread.
    private sealed class GatedPersistence(InMemoryPersistence inner) : IKeyValuePersistence
    {
        private readonly List<(string Collection, TaskCompletionSource Gate)> _asked = [];

        public IReadOnlyList<string> Asked
        {
            get
            {
                lock (_asked)
                {
                    return [.. _asked.Select(a => a.Collection)];
                }
            }
        }

        public async Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_asked)
            {
                _asked.Add((collection, gate));
            }
            await gate.Task.WaitAsync(cancellationToken);
            return await inner.ReadAllAsync(collection, cancellationToken);
        }

        public void AnswerInReverseOnOtherThreads()
        {
            lock (_asked)
            {
                for (var i = _asked.Count - 1; i >= 0; i--)
                {
                    _asked[i].Gate.SetResult();
                }
            }
        }

        public Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default) => inner.WriteAsync(writes, cancellationToken);
    }

    private sealed class RefusingPersistence : IKeyValuePersistence
    {
        private readonly InMemoryPersistence _inner = new();

        public bool Refuse { get; set; }

        public Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default) =>
            _inner.ReadAllAsync(collection, cancellationToken);

        public Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default) =>
            Refuse ? throw new IOException("QuotaExceededError") : _inner.WriteAsync(writes, cancellationToken);
    }
}
