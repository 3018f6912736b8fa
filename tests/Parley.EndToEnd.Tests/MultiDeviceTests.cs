using Parley.Client;

namespace Parley.EndToEnd.Tests;

public sealed class MultiDeviceTests
{
    [Fact]
    public async Task Both_recipient_devices_get_the_message_and_the_sender_other_device_gets_a_sync_copy()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var alicePhone = await server.LinkAsync(alice);
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var phone = new Inbox(alicePhone);
        var bob1 = new Inbox(bob);
        var bob2 = new Inbox(bobLaptop);

        var id = await alice.SendTextAsync("bob", "to all of you", Wait.Token());
        await Task.WhenAll(bob.SyncAsync(Wait.Token()), bobLaptop.SyncAsync(Wait.Token()), alicePhone.SyncAsync(Wait.Token()));

        Assert.Equal([id], bob1.Messages.Select(m => m.Id));
        Assert.Equal([id], bob2.Messages.Select(m => m.Id));
        var copy = Assert.Single(phone.Messages);
        Assert.Equal((id, "bob", MessageDirection.Outgoing, "alice", alice.Credentials.DeviceId, "to all of you"),
            (copy.Id, copy.Peer, copy.Direction, copy.Sender, copy.SenderDevice, copy.Text));
    }

    [Fact]
    public async Task A_device_linked_after_the_sender_cached_the_list_still_gets_the_message()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await alice.SendTextAsync("bob", "first", Wait.Token()); // alice now caches bob = [1]

        var bobLaptop = await server.LinkAsync(bob);
        var laptop = new Inbox(bobLaptop);
        await bobLaptop.SyncAsync(Wait.Token());

        // Alice's cached list is stale: the server answers STALE_DEVICES and she retries with the new list.
        var id = await alice.SendTextAsync("bob", "second", Wait.Token());

        await laptop.CountAsync(1);
        Assert.Equal([id], laptop.Messages.Select(m => m.Id));
        Assert.Equal([1u, bobLaptop.Credentials.DeviceId], await alice.GetDevicesAsync("bob", Wait.Token()));
    }

    [Fact]
    public async Task Reading_on_one_device_marks_the_message_read_on_the_other()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var laptop = new Inbox(bobLaptop);

        var id = await alice.SendTextAsync("bob", "read me once", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await bob.MarkReadAsync("alice", [id], Wait.Token());
        await bobLaptop.SyncAsync(Wait.Token());

        await laptop.StatusAsync(id, MessageStatus.Read);
        Assert.Equal(MessageStatus.Read, bobLaptop.FindMessage(id)!.Status);
    }
}
