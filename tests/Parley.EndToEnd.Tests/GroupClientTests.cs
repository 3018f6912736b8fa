using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Client.Groups;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>Groups through the real SDK against a real server: sender keys, membership, secrecy after removal, late joiners, ticks.</summary>
public sealed class GroupClientTests
{
    [Fact]
    public async Task Group_text_reaches_every_device_of_every_member_and_the_sender_other_devices_once_with_the_title()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var alicePhone = await server.LinkAsync(alice);
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var carol = await server.RegisterAsync("carol");
        var inboxes = new[] { alicePhone, bob, bobLaptop, carol }.Select(c => (Client: c, Inbox: new Inbox(c))).ToList();

        var group = await alice.CreateGroupAsync("Climbing", ["bob", "carol"], Wait.Token());
        var id = await alice.SendGroupTextAsync(group.Id, "rope at eight", Wait.Token());
        foreach (var (client, inbox) in inboxes)
        {
            await client.SyncAsync(Wait.Token());
            await inbox.CountAsync(1);
            var message = Assert.Single(inbox.Messages);
            Assert.Equal((id, "#" + group.Id, "alice", "rope at eight"), (message.Id, message.Peer, message.Sender, message.Text));
            Assert.Equal(client.Credentials.User == "alice" ? MessageDirection.Outgoing : MessageDirection.Incoming, message.Direction);
            Assert.Equal("Climbing", client.FindGroup(group.Id)!.Title);
            Assert.Equal(["alice", "bob", "carol"], client.FindGroup(group.Id)!.Members.Select(m => m.User).Order());
        }

        // A redelivery (the sender resends the same id) is deduplicated and never shown twice.
        await bob.DisconnectAsync();
        await bob.ConnectAsync(Wait.Token());
        await bob.SyncAsync(Wait.Token());
        Assert.Single(inboxes[1].Inbox.Messages);
        Assert.Equal([id], bob.GetGroupConversation(group.Id).Select(m => m.Id));
    }

    [Fact]
    public async Task A_title_that_breaks_the_rules_is_refused_when_set_and_ignored_when_a_member_sends_it()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        var spoof = "\u202Egnitsil rof"; // shows as "for listing" where the override is honoured
        await Assert.ThrowsAsync<ArgumentException>(() => alice.CreateGroupAsync(spoof, ["bob"], Wait.Token()));
        var group = await alice.CreateGroupAsync("Climbing", ["bob"], Wait.Token());
        await Assert.ThrowsAsync<ArgumentException>(() => alice.SetGroupTitleAsync(group.Id, "two\nlines", Wait.Token()));

        // A member's device that sends one anyway (not this SDK's public calls): the others keep the
        // title they had and still get what comes after it.
        alice.QueueGroupDetails(GroupConversation.ParseId(group.Id)!, spoof, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await alice.SendGroupTextAsync(group.Id, "after the bad title", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await bobInbox.CountAsync(1);
        Assert.Equal("after the bad title", Assert.Single(bobInbox.Messages).Text);
        Assert.Equal("Climbing", bob.FindGroup(group.Id)!.Title);

        // A title in a right-to-left script with an emoji is a title like any other.
        await alice.SetGroupTitleAsync(group.Id, "عائلة 🎉", Wait.Token());
        await alice.SendGroupTextAsync(group.Id, "renamed", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await bobInbox.CountAsync(2);
        Assert.Equal("عائلة 🎉", bob.FindGroup(group.Id)!.Title);
    }

    [Fact]
    public async Task Member_messages_arrive_in_order_in_both_directions()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var fromBob = new Inbox(alice);
        var fromAlice = new Inbox(bob);
        var group = await alice.CreateGroupAsync("Pair", ["bob"], Wait.Token());
        await bob.SyncAsync(Wait.Token());

        var sent = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            sent.Add(alice.QueueGroupText(group.Id, $"a{i}"));
        }
        await alice.FlushOutboxAsync(sent, cancellationToken: Wait.Token());
        await bob.SendGroupTextAsync(group.Id, "b0", Wait.Token());

        await fromAlice.CountAsync(20);
        await fromBob.CountAsync(1);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"a{i}"), fromAlice.Texts);
        Assert.Equal(["b0"], fromBob.Texts);
    }

    [Fact]
    public async Task Removed_member_real_client_cannot_decrypt_anything_sent_after_the_removal()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        var group = await alice.CreateGroupAsync("Secrets", ["bob", "carol"], Wait.Token());
        await carol.SyncAsync(Wait.Token());

        await alice.SendGroupTextAsync(group.Id, "before", Wait.Token());
        await carol.SendGroupTextAsync(group.Id, "carol before", Wait.Token());
        // bob has every key so far: he reads what was sent before (the check below can tell apart).
        await bob.SyncAsync(Wait.Token());
        Assert.Equal(["before", "carol before"], bob.GetGroupConversation(group.Id).Select(m => m.Text));

        await alice.RemoveGroupMemberAsync(group.Id, "bob", Wait.Token());
        await carol.SyncAsync(Wait.Token()); // carol sees the removal notice before she writes again
        var carolInbox = new Inbox(carol);
        var afterAlice = await alice.SendGroupTextAsync(group.Id, "after", Wait.Token());
        var afterCarol = await carol.SendGroupTextAsync(group.Id, "carol after", Wait.Token());
        await carolInbox.CountAsync(1);
        Assert.Equal(["after"], carolInbox.Texts);

        var bodies = tap.GroupSends.Where(s => MessageId.ToText(s.MessageId.Span) is var t && (t == afterAlice || t == afterCarol)).ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Null(bob.Testing.TryReadGroupBody("alice", alice.Credentials.DeviceId, bodies.Single(b => MessageId.ToText(b.MessageId.Span) == afterAlice).Body.ToByteArray()));
        Assert.Null(bob.Testing.TryReadGroupBody("carol", carol.Credentials.DeviceId, bodies.Single(b => MessageId.ToText(b.MessageId.Span) == afterCarol).Body.ToByteArray()));
        await bob.SyncAsync(Wait.Token());
        Assert.False(bob.FindGroup(group.Id)!.IsMember);
        Assert.Equal(["before", "carol before"], bob.GetGroupConversation(group.Id).Select(m => m.Text));
        var refused = await Assert.ThrowsAsync<ParleyException>(() => bob.SendGroupTextAsync(group.Id, "let me in", Wait.Token()));
        Assert.Equal(ErrorCode.NotAMember, refused.Code);
    }

    [Fact]
    public async Task Late_joiner_cannot_read_what_was_sent_before_it_joined_but_reads_what_follows()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var dave = await server.RegisterAsync("dave");
        var group = await alice.CreateGroupAsync("Early birds", ["bob"], Wait.Token());
        var early = await alice.SendGroupTextAsync(group.Id, "early", Wait.Token());

        await alice.AddGroupMemberAsync(group.Id, "dave", Wait.Token());
        var welcome = await alice.SendGroupTextAsync(group.Id, "welcome dave", Wait.Token());
        await dave.SyncAsync(Wait.Token());

        Assert.Equal(["welcome dave"], dave.GetGroupConversation(group.Id).Select(m => m.Text));
        Assert.Equal("Early birds", dave.FindGroup(group.Id)!.Title);
        var earlyBody = tap.GroupSends.Single(s => MessageId.ToText(s.MessageId.Span) == early).Body.ToByteArray();
        Assert.Null(dave.Testing.TryReadGroupBody("alice", alice.Credentials.DeviceId, earlyBody));
        Assert.NotEqual(early, welcome);
    }

    [Fact]
    public async Task Roles_are_enforced_and_the_longest_standing_member_is_promoted_when_the_last_admin_leaves()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        var mallory = await server.RegisterAsync("mallory");
        var changes = new System.Collections.Concurrent.ConcurrentQueue<GroupChangedEventArgs>();
        carol.GroupChanged += (_, e) => changes.Enqueue(e);

        var group = await alice.CreateGroupAsync("Board", ["bob"], Wait.Token());
        var forbidden = await Assert.ThrowsAsync<ParleyException>(() => bob.AddGroupMemberAsync(group.Id, "carol", Wait.Token()));
        Assert.Equal(ErrorCode.Forbidden, forbidden.Code);
        var stranger = await Assert.ThrowsAsync<ParleyException>(() => mallory.GetGroupAsync(group.Id, Wait.Token()));
        Assert.Equal(ErrorCode.NotAMember, stranger.Code);

        await alice.AddGroupMemberAsync(group.Id, "carol", Wait.Token());
        var promoted = await alice.PromoteGroupMemberAsync(group.Id, "carol", Wait.Token());
        Assert.True(promoted.Members.Single(m => m.User == "carol").IsAdmin);
        await alice.DemoteGroupMemberAsync(group.Id, "carol", Wait.Token());
        await alice.LeaveGroupAsync(group.Id, Wait.Token());

        await carol.SyncAsync(Wait.Token());
        var info = carol.FindGroup(group.Id)!;
        Assert.Equal(["bob", "carol"], info.Members.Select(m => m.User));
        Assert.True(info.Members.Single(m => m.User == "bob").IsAdmin); // in the group longer than carol
        Assert.Equal("Board", info.Title);
        Assert.Equal(["add", "promote", "demote", "leave"], changes.Select(c => c.Change).Where(c => c != "title"));
        Assert.Equal(["Board"], (await bob.ListGroupsAsync(Wait.Token())).Select(g => g.Title));
        Assert.Empty(await alice.ListGroupsAsync(Wait.Token()));
    }

    [Fact]
    public async Task Ticks_go_double_when_every_member_device_has_it_and_blue_when_every_member_read_it()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var carol = await server.RegisterAsync("carol");
        var ticks = new Inbox(alice);
        var group = await alice.CreateGroupAsync("Ticks", ["bob", "carol"], Wait.Token());

        var id = await alice.SendGroupTextAsync(group.Id, "tick me", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await carol.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => alice.GetMemberReceipts(id).Count(r => r.Status == MessageStatus.Delivered) == 2, "bob's phone and carol delivered");
        Assert.Equal(MessageStatus.Sent, alice.FindMessage(id)!.Status); // bob's laptop has not got it yet
        Assert.Equal(MessageStatus.Sent, alice.GetMemberReceipts(id).Single(r => r.Device == bobLaptop.Credentials.DeviceId).Status);

        await bobLaptop.SyncAsync(Wait.Token());
        await ticks.StatusAsync(id, MessageStatus.Delivered);

        await bob.MarkGroupReadAsync(group.Id, [id], Wait.Token());
        await Wait.UntilAsync(() => alice.GetMemberReceipts(id).Where(r => r.User == "bob").All(r => r.Status == MessageStatus.Read), "bob read");
        Assert.Equal(MessageStatus.Delivered, alice.FindMessage(id)!.Status);
        await carol.MarkGroupReadAsync(group.Id, [id], Wait.Token());
        await ticks.StatusAsync(id, MessageStatus.Read);
        Assert.All(alice.GetMemberReceipts(id), r => Assert.Equal(MessageStatus.Read, r.Status));
        Assert.Equal(3, alice.GetMemberReceipts(id).Count);
    }

    [Fact]
    public async Task A_device_that_lost_the_sender_key_asks_again_and_gets_the_message_over_its_one_to_one_session()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        var group = await alice.CreateGroupAsync("Heal", ["bob"], Wait.Token());
        await alice.SendGroupTextAsync(group.Id, "one", Wait.Token());
        await inbox.CountAsync(1);

        Assert.True(bob.Testing.DeleteAllSenderKeys() > 0);
        var two = await alice.SendGroupTextAsync(group.Id, "two", Wait.Token());
        await inbox.CountAsync(2);
        Assert.Single(inbox.DecryptionFailures);
        Assert.Equal((two, "two", "#" + group.Id), (inbox.Messages[1].Id, inbox.Messages[1].Text, inbox.Messages[1].Peer));

        // The next message carries the sender key again: bob reads it straight away.
        await alice.SendGroupTextAsync(group.Id, "three", Wait.Token());
        await inbox.CountAsync(3);
        Assert.Single(inbox.DecryptionFailures);
        Assert.Equal(["one", "two", "three"], inbox.Texts);
    }

    [Fact]
    public async Task Group_typing_reaches_the_other_members_online_devices_and_a_stranger_is_refused()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var mallory = await server.RegisterAsync("mallory");
        var bobs = new Inbox(bob);
        var group = await alice.CreateGroupAsync("Typing", ["bob"], Wait.Token());
        await bob.SyncAsync(Wait.Token());

        await alice.SetGroupTypingAsync(group.Id, true, Wait.Token());
        await Wait.UntilAsync(() => bobs.Typing.Any(t => t.User == "alice" && t.Typing && t.GroupId == group.Id), "alice typing in the group");
        var refused = await Assert.ThrowsAsync<ParleyException>(() => mallory.SetGroupTypingAsync(group.Id, true, Wait.Token()));
        Assert.Equal(ErrorCode.NotAMember, refused.Code);
        Assert.DoesNotContain(bobs.Typing, t => t.User == "mallory");
    }
}
