using Parley.Client;
using Parley.Client.Events;

namespace Parley.EndToEnd.Tests;

public sealed class ReceiptTests
{
    [Fact]
    public async Task Sender_sees_sent_then_delivered_then_read()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var aliceEvents = new Inbox(alice);
        var bobInbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());
        await alice.SyncAsync(Wait.Token());

        var id = await alice.SendTextAsync("bob", "tick tock", Wait.Token());
        await bobInbox.CountAsync(1);
        await aliceEvents.StatusAsync(id, MessageStatus.Delivered);
        await bob.MarkReadAsync("alice", [id], Wait.Token());
        await aliceEvents.StatusAsync(id, MessageStatus.Read);

        Assert.Equal([MessageStatus.Sent, MessageStatus.Delivered, MessageStatus.Read], aliceEvents.StatusesOf(id));
        Assert.Equal(MessageStatus.Read, alice.FindMessage(id)!.Status);
        Assert.Equal(MessageStatus.Read, bob.FindMessage(id)!.Status);
    }

    [Fact]
    public async Task An_offline_sender_gets_delivered_and_read_on_reconnect()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var id = await alice.SendTextAsync("bob", "while you were out", Wait.Token());
        await alice.DisconnectAsync();

        var bobInbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());
        Assert.Equal([id], bobInbox.Messages.Select(m => m.Id));
        // Read at once: the SDK sends READ only after the ack that makes DELIVERED, so the ticks queue in order.
        await bob.MarkReadAsync("alice", [id], Wait.Token());

        var aliceAgain = server.Reopen(alice.ProfileDirectory);
        var events = new Inbox(aliceAgain);
        await aliceAgain.SyncAsync(Wait.Token());

        // Both receipts were queued for her; the store moved forward once each, never back.
        Assert.Equal([MessageStatus.Delivered, MessageStatus.Read], events.StatusesOf(id));
        Assert.Equal(MessageStatus.Read, aliceAgain.FindMessage(id)!.Status);
    }

    [Fact]
    public async Task Typing_and_presence_reach_the_peer()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var aliceEvents = new Inbox(alice);
        await alice.SyncAsync(Wait.Token());
        // Bob writing to Alice makes them conversation peers: typing may go both ways, and Alice may see his presence.
        await bob.SendTextAsync("alice", "hi", Wait.Token());
        await bob.DisconnectAsync();

        var token = Wait.Token();
        IReadOnlyList<PresenceChangedEventArgs> snapshot;
        while (Assert.Single(snapshot = await alice.SubscribePresenceAsync(["bob"], token)).Online)
        {
            await Task.Delay(20, token); // the server has not seen Bob's connection close yet
        }

        await bob.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => aliceEvents.Presence.Any(p => p.User == "bob" && p.Online), "bob online");

        await bob.SetTypingAsync("alice", true, Wait.Token());
        await Wait.UntilAsync(() => aliceEvents.Typing.Any(t => t.User == "bob" && t.Typing), "bob typing");

        await bob.DisconnectAsync();
        await Wait.UntilAsync(() => aliceEvents.Presence.Any(p => p.User == "bob" && !p.Online && p.LastSeen is not null), "bob offline");
    }
}
