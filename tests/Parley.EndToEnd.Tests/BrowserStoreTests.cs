using System.Collections.Concurrent;
using Parley.Client;
using Parley.Client.Events;
using Parley.Client.Storage;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// A device kept in key-value storage (the browser's way: IndexedDB there, memory here) against
/// the real server and a SQLite device: registration, both directions, and a reload that keeps
/// history and sessions.
/// </summary>
public sealed class BrowserStoreTests
{
    [Fact]
    public async Task A_device_in_key_value_storage_chats_and_keeps_history_and_sessions_across_a_reload()
    {
        await using var server = await TestServer.StartAsync();
        var storage = new InMemoryPersistence();
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());

        await using (var web = await ParleyClient.RegisterAsync(storage, server.BaseUri, "web", options: Wait.Options()))
        {
            var webInbox = new Inbox(web);
            await web.SendTextAsync("bob", "hello from the browser", Wait.Token());
            await bobInbox.CountAsync(1);
            await bob.SendTextAsync("web", "hello, browser", Wait.Token());
            await web.SyncAsync(Wait.Token());
            await webInbox.CountAsync(1);
        }

        // The reload: a new client over what the first one wrote.
        await using var reloaded = await ParleyClient.OpenAsync(storage, Wait.Options());
        Assert.NotNull(reloaded);
        Assert.Equal("web", reloaded.Credentials.User);
        Assert.Equal(["hello from the browser", "hello, browser"], reloaded.GetConversation("bob").Select(m => m.Text));
        var sessionBefore = reloaded.Testing.SessionVersionWith("bob", bob.Credentials.DeviceId);
        Assert.NotNull(sessionBefore);

        var reloadedInbox = new Inbox(reloaded);
        await reloaded.SendTextAsync("bob", "still me after a reload", Wait.Token());
        await bobInbox.CountAsync(2);
        Assert.Equal("still me after a reload", bobInbox.Texts[1]);
        await bob.SendTextAsync("web", "and still you", Wait.Token());
        await reloaded.SyncAsync(Wait.Token());
        await reloadedInbox.CountAsync(1);
        Assert.Equal("and still you", reloadedInbox.Texts[0]);
        Assert.Empty(bobInbox.DecryptionFailures);
        Assert.Empty(reloadedInbox.DecryptionFailures);
    }

    [Fact]
    public async Task Storage_without_an_account_opens_to_null()
    {
        Assert.Null(await ParleyClient.OpenAsync(new InMemoryPersistence()));
    }

    [Fact]
    public async Task A_refused_write_is_reported_and_holds_the_send_until_storage_accepts_again()
    {
        await using var server = await TestServer.StartAsync();
        var storage = new RefusingPersistence();
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        await using var web = await ParleyClient.RegisterAsync(storage, server.BaseUri, "web", options: Wait.Options());
        var failures = new ConcurrentQueue<StorageFailedEventArgs>();
        web.StorageFailed += (_, e) => failures.Enqueue(e);
        await web.ConnectAsync(Wait.Token());

        storage.Refuse = true;
        var id = web.QueueText("bob", "sent once it is on disk");
        await Wait.UntilAsync(() => !failures.IsEmpty, "a storage failure");
        Assert.Equal("storage_failed", failures.First().Error.ApiCode);
        // Nothing left the device that the device could not keep.
        Assert.Empty(bobInbox.Messages);

        storage.Refuse = false;
        await web.WaitUntilSentAsync(id, Wait.Token());
        await bobInbox.CountAsync(1);
        Assert.Equal("sent once it is on disk", bobInbox.Texts[0]);
    }

    /// <summary>Memory that refuses writes while told to, as a full IndexedDB quota does.</summary>
    private sealed class RefusingPersistence : IKeyValuePersistence
    {
        private readonly InMemoryPersistence _inner = new();

        public volatile bool Refuse;

        public Task<IReadOnlyList<KeyValuePair<string, byte[]>>> ReadAllAsync(string collection, CancellationToken cancellationToken = default) =>
            _inner.ReadAllAsync(collection, cancellationToken);

        public Task WriteAsync(IReadOnlyList<PersistedWrite> writes, CancellationToken cancellationToken = default) =>
            Refuse ? throw new IOException("QuotaExceededError") : _inner.WriteAsync(writes, cancellationToken);
    }
}
