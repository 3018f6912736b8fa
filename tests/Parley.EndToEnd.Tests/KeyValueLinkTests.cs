using Parley.Client;
using Parley.Client.Storage;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Linking by code a device kept in key-value storage (the browser's way: IndexedDB there, memory
/// here) to an account whose primary is a SQLite profile.
/// </summary>
public sealed class KeyValueLinkTests
{
    [Fact]
    public async Task A_device_in_key_value_storage_links_by_code_then_receives_sends_and_keeps_its_account_across_a_reload()
    {
        await using var server = await TestServer.StartAsync();
        var storage = new InMemoryPersistence();
        var alice = await server.RegisterAsync("alice");
        var aliceInbox = new Inbox(alice);
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());

        var request = await ParleyClient.RequestLinkAsync(storage, server.BaseUri, "browser", Wait.Options(), Wait.Token());
        Assert.Equal(("browser", request.Fingerprint), ((await alice.GetPendingLinkAsync(request.Code, Wait.Token())).DeviceName, request.Fingerprint));
        Assert.Equal(2u, await alice.ApproveLinkAsync(request.Code, Wait.Token()));
        await using (var web = await request.Linked.WaitAsync(Wait.Limit))
        {
            Assert.Equal(("alice", 2u), (web.Credentials.User, web.Credentials.DeviceId));
            Assert.False(web.IsPrimaryDevice);
            var webInbox = new Inbox(web);
            await bob.SendTextAsync("alice", "to every device of alice", Wait.Token());
            await web.SyncAsync(Wait.Token());
            await webInbox.CountAsync(1);
            Assert.Equal(["to every device of alice"], webInbox.Texts);

            await web.SendTextAsync("bob", "from alice's browser", Wait.Token());
            await bobInbox.CountAsync(1);
            Assert.Equal(("from alice's browser", "alice", 2u), (bobInbox.Messages[0].Text, bobInbox.Messages[0].Sender, bobInbox.Messages[0].SenderDevice));
            // The primary gets its own copy of what the browser sent, as an outgoing message.
            await alice.SyncAsync(Wait.Token());
            await aliceInbox.CountAsync(2);
            Assert.Contains(aliceInbox.Messages, m => m is { Text: "from alice's browser", Direction: MessageDirection.Outgoing, Peer: "bob" });
            Assert.Empty(webInbox.DecryptionFailures);
            Assert.Empty(bobInbox.DecryptionFailures);
        }

        // The reload: the linked device is what the storage holds.
        await using var reloaded = await ParleyClient.OpenAsync(storage, Wait.Options());
        Assert.NotNull(reloaded);
        Assert.Equal(("alice", 2u), (reloaded.Credentials.User, reloaded.Credentials.DeviceId));
        Assert.Equal(["to every device of alice", "from alice's browser"], reloaded.GetConversation("bob").Select(m => m.Text));
    }

    [Fact]
    public async Task Storage_that_holds_an_account_cannot_request_a_link()
    {
        await using var server = await TestServer.StartAsync();
        var storage = new InMemoryPersistence();
        await using (await ParleyClient.RegisterAsync(storage, server.BaseUri, "web", options: Wait.Options()))
        {
        }
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ParleyClient.RequestLinkAsync(storage, server.BaseUri, "browser", Wait.Options(), Wait.Token()));
        Assert.Contains("already holds an account", refused.Message, StringComparison.Ordinal);
    }
}
