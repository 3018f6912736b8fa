using Parley.Client;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

public sealed class DeliveryTests
{
    [Fact]
    public async Task Online_message_reaches_a_connected_recipient()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        var id = await alice.SendTextAsync("bob", "hello bob", Wait.Token());

        await bobInbox.CountAsync(1);
        var message = Assert.Single(bobInbox.Messages);
        Assert.Equal((id, "alice", "alice", MessageDirection.Incoming, "hello bob"),
            (message.Id, message.Sender, message.Peer, message.Direction, message.Text));
        Assert.NotEqual(MessageStatus.Pending, alice.FindMessage(id)!.Status);
    }

    [Fact]
    public async Task SyncAsync_on_a_connected_client_returns_with_everything_sent_to_it_before_the_call_stored()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await bob.SyncAsync(Wait.Token()); // connected: from here on, messages reach bob live

        await alice.SendTextAsync("bob", "first", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        Assert.Equal(["first"], bob.GetConversation("alice").Select(m => m.Text));

        var sends = Enumerable.Range(0, 30).Select(i => alice.SendTextAsync("bob", $"m{i}", Wait.Token())).ToList();
        await Task.WhenAll(sends); // every one SENT: committed for bob
        await bob.SyncAsync(Wait.Token());
        Assert.Equal(["first", .. Enumerable.Range(0, 30).Select(i => $"m{i}")], bob.GetConversation("alice", 100).Select(m => m.Text));
    }

    [Fact]
    public async Task Offline_messages_arrive_in_order_after_reconnect_then_the_queue_drains()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await bob.SyncAsync(Wait.Token());
        await bob.DisconnectAsync();

        var sent = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            sent.Add(await alice.SendTextAsync("bob", $"m{i}", Wait.Token()));
        }

        var bobAgain = server.Reopen(bob.ProfileDirectory);
        var inbox = new Inbox(bobAgain);
        await bobAgain.SyncAsync(Wait.Token());

        Assert.Equal(sent, inbox.Messages.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}"), inbox.Texts);
        Assert.Equal(1, inbox.Drains);
    }

    [Fact]
    public async Task A_thousand_messages_arrive_in_order()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        // Fired without waiting: the outbox keeps call order and sends one at a time.
        var sends = Enumerable.Range(0, 1000).Select(i => alice.SendTextAsync("bob", $"n{i}", Wait.Token())).ToArray();
        var ids = await Task.WhenAll(sends);

        await inbox.CountAsync(1000);
        Assert.Equal(ids, inbox.Messages.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"n{i}"), inbox.Texts);
        Assert.Equal(0, alice.PendingSends);
    }

    [Fact]
    public async Task A_resend_with_the_same_message_id_is_shown_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        var id = await alice.SendTextAsync("bob", "once", Wait.Token());
        // As if alice crashed after the server stored it but before she recorded SENT: her outbox sends it again.
        await alice.Testing.ResendAsync(id, Wait.Token());
        await alice.SendTextAsync("bob", "marker", Wait.Token());

        await inbox.CountAsync(2);
        Assert.Equal(["once", "marker"], inbox.Texts);
        Assert.Single(bob.GetConversation("alice"), m => m.Id == id);
    }

    [Fact]
    public async Task A_redelivered_unacked_message_is_raised_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var first = new Inbox(bob);
        bob.Testing.AcksEnabled = false;
        await bob.SyncAsync(Wait.Token());

        var id = await alice.SendTextAsync("bob", "keep me", Wait.Token());
        await first.CountAsync(1);
        await bob.DisconnectAsync();

        // The server never got an ack, so it delivers the envelope again on the next connection.
        var bobAgain = server.Reopen(bob.ProfileDirectory);
        var second = new Inbox(bobAgain);
        await bobAgain.SyncAsync(Wait.Token());
        var marker = await alice.SendTextAsync("bob", "marker", Wait.Token());
        await second.CountAsync(1);

        Assert.Equal([marker], second.Messages.Select(m => m.Id));
        Assert.Equal(1, bobAgain.Testing.DuplicateDeliveries); // the server did deliver it again
        Assert.Single(bobAgain.GetConversation("alice"), m => m.Id == id);
    }

    [Fact]
    public async Task A_client_that_drops_mid_drain_gets_the_rest_in_order_on_reconnect()
    {
        // A small in-flight window keeps the drop mid-drain: with the default (1,000) the server can
        // send all 300 in one write, and the client then shows them all before the drop is felt.
        await using var server = await TestServer.StartAsync(o => o.Limits.MaxInFlight = 20);
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await bob.SyncAsync(Wait.Token());
        await bob.DisconnectAsync();
        var ids = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            ids.Add(await alice.SendTextAsync("bob", $"d{i}", Wait.Token()));
        }

        var dropping = server.Reopen(bob.ProfileDirectory);
        var seen = new List<string>();
        var dropped = new TaskCompletionSource<Task>();
        dropping.MessageReceived += (_, e) =>
        {
            lock (seen)
            {
                seen.Add(e.Message.Id);
                if (seen.Count == 50)
                {
                    // The network goes away mid-drain, and the app stops before it can reconnect.
                    dropping.Testing.DropConnection();
                    dropped.TrySetResult(dropping.DisconnectAsync());
                }
            }
        };
        _ = dropping.ConnectAsync(Wait.Token());
        await await dropped.Task.WaitAsync(Wait.Limit);
        int before;
        lock (seen)
        {
            before = seen.Count;
        }
        Assert.InRange(before, 50, 299);

        var resumed = server.Reopen(bob.ProfileDirectory);
        var inbox = new Inbox(resumed);
        await resumed.SyncAsync(Wait.Token());

        // Everything arrives exactly once across both connections, in send order.
        Assert.Equal(ids, seen.Concat(inbox.Messages.Select(m => m.Id)));
        Assert.Equal(ids, resumed.GetConversation("alice", 1000).Select(m => m.Id));
    }

    [Fact]
    public async Task Sending_to_an_unknown_user_fails_with_its_code_and_leaves_the_outbox()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");

        var error = await Assert.ThrowsAsync<ParleyException>(() => alice.SendTextAsync("nobody", "hi", Wait.Token()));

        Assert.Equal(ErrorCode.UnknownUser, error.Code);
        Assert.Equal(0, alice.PendingSends);
        Assert.Equal(MessageStatus.Failed, Assert.Single(alice.GetConversation("nobody")).Status);
    }

    [Fact]
    public async Task A_wait_that_starts_after_the_refusal_still_reports_the_servers_reason()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var inbox = new Inbox(alice);
        var id = alice.QueueText("nobody", "hi");
        await alice.ConnectAsync(Wait.Token());
        await Wait.UntilAsync(() => inbox.StatusesOf(id).Contains(MessageStatus.Failed), "the refusal");

        var error = await Assert.ThrowsAsync<ParleyException>(() => alice.WaitUntilSentAsync(id, Wait.Token()));

        Assert.Equal(ErrorCode.UnknownUser, error.Code);
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_with_unauthorized()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await alice.DisposeAsync();
        var forged = Path.Combine(server.NewProfileDir());
        // Same account and device, wrong secret.
        using (var store = Parley.Client.Storage.ClientStore.Open(forged))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(server.BaseUri, "alice", 1, "not-the-password"));
        }
        var impostor = server.Reopen(forged);

        var error = await Assert.ThrowsAsync<ParleyException>(() => impostor.ConnectAsync(Wait.Token()));

        Assert.Equal(ErrorCode.Unauthorized, error.Code);
    }

    [Fact]
    public async Task A_rate_limited_client_slows_down_and_everything_still_arrives_in_order()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Limits.FramesPerSecond = 40;
            o.Limits.FrameBurst = 5;
        });
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        // Far more frames than the burst: the server answers RATE_LIMITED and the SDK waits as told.
        var ids = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => alice.SendTextAsync("bob", $"r{i}", Wait.Token())));

        await inbox.CountAsync(60);
        Assert.Equal(ids, inbox.Messages.Select(m => m.Id));
        Assert.True(alice.Testing.RateLimitedCount > 0, "the server never pushed back, so this test proved nothing");
        Assert.Equal(ConnectionState.Connected, alice.State);
    }
}
