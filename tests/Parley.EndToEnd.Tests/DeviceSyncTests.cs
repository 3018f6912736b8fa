using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Sync between an account's devices inside the ciphertext, with the real server and SDK: sent
/// transcripts that a hostile server cannot re-file, read marks, verified marks and the chat list.
/// </summary>
public sealed class DeviceSyncTests
{
    [Theory]
    [InlineData("conversation")]
    [InlineData("message_id")]
    [InlineData("sent_at")]
    public async Task A_sent_copy_whose_envelope_the_server_rewrote_is_dropped_and_shown_nowhere(string rewritten)
    {
        var hostile = new HostileMessageStore();
        await using var server = await TestServer.StartAsync(services: hostile.Install);
        var alice = await server.RegisterAsync("alice");
        var laptop = await server.LinkAsync(alice);
        await server.RegisterAsync("bob");
        await server.RegisterAsync("carol");
        var inbox = new Inbox(laptop);
        // The copy for alice's laptop is the one envelope of the send whose conversation is bob (bob's devices see "alice").
        hostile.Alter = e =>
        {
            if (e.Kind == EnvelopeKind.Message && e.Sender == "alice" && e.Conversation == "bob")
            {
                switch (rewritten)
                {
                    case "conversation":
                        e.Conversation = "carol";
                        break;
                    case "message_id":
                        e.MessageId = ByteString.CopyFrom(MessageId.New());
                        break;
                    default:
                        e.SentAt -= 86_400_000;
                        break;
                }
            }
        };

        await alice.SendTextAsync("bob", "for bob only", Wait.Token());
        await laptop.SyncAsync(Wait.Token());

        await Wait.UntilAsync(() => inbox.DecryptionFailures.Any(f => f.Reason == "sync_mismatch"), "the re-filed copy dropped");
        Assert.Empty(inbox.Messages);
        Assert.Empty(laptop.GetConversation("carol"));
        Assert.Empty(laptop.GetConversation("bob"));
        var dropped = Assert.Single(inbox.DecryptionFailures);
        Assert.Equal(("alice", alice.Credentials.DeviceId, false), (dropped.Sender, dropped.SenderDevice, dropped.RetryRequested));

        // An honest envelope again: the next copy is filed where the transcript says.
        hostile.Alter = null;
        var id = await alice.SendTextAsync("bob", "filed right", Wait.Token());
        await inbox.CountAsync(1);
        var copy = Assert.Single(laptop.GetConversation("bob"));
        Assert.Equal((id, "bob", MessageDirection.Outgoing, "filed right"), (copy.Id, copy.Peer, copy.Direction, copy.Text));
        Assert.Empty(laptop.GetConversation("carol"));
    }

    [Fact]
    public async Task A_message_resent_to_another_device_of_the_sender_is_filed_by_its_transcript_under_the_original_id()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var laptop = await server.LinkAsync(alice);
        await server.RegisterAsync("bob");
        var inbox = new Inbox(laptop);
        await laptop.ConnectAsync(Wait.Token());
        await alice.SendTextAsync("bob", "one", Wait.Token());
        await inbox.CountAsync(1);
        Assert.True(laptop.Testing.DeleteAllSessionRecords() > 0); // the laptop cannot read the phone's next copy

        var two = await alice.SendTextAsync("bob", "two", Wait.Token());

        await inbox.CountAsync(2);
        Assert.Equal(["one", "two"], inbox.Texts);
        var copy = laptop.GetConversation("bob")[1];
        Assert.Equal((two, MessageDirection.Outgoing, "alice"), (copy.Id, copy.Direction, copy.Sender));
        Assert.True(Assert.Single(inbox.DecryptionFailures).RetryRequested); // it came as a resend
    }

    [Fact]
    public async Task A_group_message_resent_to_another_device_of_the_sender_is_filed_in_its_group()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var laptop = await server.LinkAsync(alice);
        await server.RegisterAsync("bob");
        var inbox = new Inbox(laptop);
        await laptop.ConnectAsync(Wait.Token());
        var group = await alice.CreateGroupAsync("Climbing", ["bob"], Wait.Token());
        await alice.SendGroupTextAsync(group.Id, "one", Wait.Token());
        await inbox.CountAsync(1);
        Assert.True(laptop.Testing.DeleteAllSenderKeys() > 0);

        var two = await alice.SendGroupTextAsync(group.Id, "two", Wait.Token());

        await inbox.CountAsync(2);
        var copy = laptop.GetGroupConversation(group.Id)[1];
        Assert.Equal((two, "two", MessageDirection.Outgoing, "#" + group.Id), (copy.Id, copy.Text, copy.Direction, copy.Peer));
        Assert.True(Assert.Single(inbox.DecryptionFailures).RetryRequested); // it came as a resend
    }

    [Fact]
    public async Task A_sync_message_from_another_account_is_dropped()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await server.RegisterAsync("carol");
        var inbox = new Inbox(alice);
        var forged = new Content
        {
            Sync = new SyncMessage
            {
                Sent = new SentTranscript
                {
                    Destination = "carol",
                    MessageId = ByteString.CopyFrom(MessageId.New()),
                    SentAt = 1,
                    Message = new Content { Text = new TextMessage { Text = "alice never wrote this" } },
                },
            },
        };

        await bob.WaitUntilSentAsync(bob.Testing.QueueContent("alice", forged.ToByteArray()), Wait.Token());
        await bob.SendTextAsync("alice", "an honest one", Wait.Token());
        await alice.SyncAsync(Wait.Token());

        await inbox.CountAsync(1);
        Assert.Equal(["an honest one"], inbox.Texts);
        Assert.Equal("sync_from_peer", Assert.Single(inbox.DecryptionFailures).Reason);
        Assert.Empty(alice.GetConversation("carol"));
    }

    [Fact]
    public async Task Reading_on_one_device_clears_the_unread_count_on_the_other_without_a_second_read_receipt()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var laptop = await server.LinkAsync(bob);
        var aliceInbox = new Inbox(alice);
        var laptopInbox = new Inbox(laptop);
        var first = await alice.SendTextAsync("bob", "one", Wait.Token());
        var second = await alice.SendTextAsync("bob", "two", Wait.Token());
        await Task.WhenAll(bob.SyncAsync(Wait.Token()), laptop.SyncAsync(Wait.Token()));
        Assert.Equal(2, Assert.Single(laptop.GetConversations()).UnreadCount);

        await bob.MarkReadAsync("alice", [first, second], Wait.Token());

        await laptopInbox.StatusAsync(second, MessageStatus.Read);
        await laptopInbox.StatusAsync(first, MessageStatus.Read);
        var chat = Assert.Single(laptop.GetConversations());
        Assert.Equal(("alice", 0, "two"), (chat.Conversation, chat.UnreadCount, chat.LastMessage.Text));
        Assert.Equal(0, Assert.Single(bob.GetConversations()).UnreadCount);
        await aliceInbox.StatusAsync(second, MessageStatus.Read);
        await alice.SyncAsync(Wait.Token());
        await laptop.SyncAsync(Wait.Token());
        var reads = tap.Frames.Where(f => f.Inbound).Select(f => ClientFrame.Parser.ParseFrom(f.Bytes)).Where(f => f.BodyCase == ClientFrame.BodyOneofCase.Read);
        Assert.Single(reads); // the reading device's READ; the laptop sent none
    }

    [Fact]
    public async Task A_read_receipt_the_server_makes_up_for_another_device_of_the_account_marks_nothing_read()
    {
        var hostile = new HostileMessageStore();
        await using var server = await TestServer.StartAsync(services: hostile.Install);
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var laptop = await server.LinkAsync(bob);
        var id = await alice.SendTextAsync("bob", "unread on the laptop", Wait.Token());
        await Task.WhenAll(bob.SyncAsync(Wait.Token()), laptop.SyncAsync(Wait.Token()));
        // The server withholds the phone's encrypted read sync but delivers its own READ copy for the laptop.
        hostile.Drop = e => e.Kind == EnvelopeKind.Message && e.Sender == "bob" && e.Conversation == "bob";

        await bob.MarkReadAsync("alice", [id], Wait.Token());
        await laptop.SyncAsync(Wait.Token());
        await laptop.DisconnectAsync();
        await laptop.SyncAsync(Wait.Token()); // a second connect: the READ envelope was handled and acked

        Assert.Equal(MessageStatus.Delivered, laptop.FindMessage(id)!.Status);
        Assert.Equal(1, Assert.Single(laptop.GetConversations()).UnreadCount);
    }

    [Fact]
    public async Task Verified_status_syncs_to_the_accounts_other_devices_both_ways()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var laptop = await server.LinkAsync(bob);
        await alice.SendTextAsync("bob", "hi", Wait.Token()); // the laptop learns alice's account key from her message
        await laptop.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => laptop.Testing.Store.PeerIdentity("alice") is not null, "alice's key known on the laptop");

        await bob.MarkVerifiedAsync("alice", Wait.Token());
        await Wait.UntilAsync(() => laptop.IsVerified("alice"), "alice verified on the laptop");

        await laptop.ClearVerifiedAsync("alice", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => !bob.IsVerified("alice"), "alice no longer verified on the phone");
        Assert.Equal(await bob.GetSafetyNumberAsync("alice", Wait.Token()), await laptop.GetSafetyNumberAsync("alice", Wait.Token()));
    }

    [Fact]
    public async Task A_device_that_never_met_the_contact_takes_the_verified_key_from_its_own_account()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var laptop = await server.LinkAsync(bob);

        await bob.MarkVerifiedAsync("alice", Wait.Token());
        await laptop.SyncAsync(Wait.Token());

        Assert.True(laptop.IsVerified("alice"));
        Assert.Equal(alice.AccountKey, laptop.Testing.Store.PeerIdentity("alice"));
        await laptop.SendTextAsync("alice", "from a verified chat", Wait.Token()); // the list alice publishes carries the same key
        Assert.True(laptop.IsVerified("alice"));
    }

    [Fact]
    public async Task Verify_on_one_device_shows_verified_on_the_other_over_the_cli()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var phone = server.NewProfileDir();
        var laptop = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", phone)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("link", "--from", phone, "--profile", laptop)).ExitCode);
        await server.RegisterAsync("bob");

        Assert.True((await Cli.RunAsync("verify", "bob", "--profile", phone, "--json")).Single.GetProperty("verified").GetBoolean());
        Assert.Equal(0, (await Cli.RunAsync("sync", "--profile", laptop)).ExitCode);
        var onLaptop = (await Cli.RunAsync("safety-number", "bob", "--profile", laptop, "--json")).Single;
        Assert.True(onLaptop.GetProperty("verified").GetBoolean());

        var cleared = (await Cli.RunAsync("verify", "bob", "--clear", "--profile", laptop, "--json")).Single;
        Assert.False(cleared.GetProperty("verified").GetBoolean());
        Assert.Equal(0, (await Cli.RunAsync("sync", "--profile", phone)).ExitCode);
        Assert.False((await Cli.RunAsync("safety-number", "bob", "--profile", phone, "--json")).Single.GetProperty("verified").GetBoolean());
    }

    [Fact]
    public async Task Every_device_of_the_account_lists_the_same_chats_with_last_message_and_unread_count()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var laptop = await server.LinkAsync(alice);
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        var laptopInbox = new Inbox(laptop);
        var phoneInbox = new Inbox(alice);
        await laptop.ConnectAsync(Wait.Token());
        var group = await alice.CreateGroupAsync("Climbing", ["bob"], Wait.Token());
        await alice.SendTextAsync("bob", "to bob from the phone", Wait.Token());
        await carol.SendTextAsync("alice", "carol asks", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        var rope = await bob.SendGroupTextAsync(group.Id, "rope at eight", Wait.Token());
        await laptopInbox.CountAsync(3);
        await laptop.SendTextAsync("carol", "the laptop answers", Wait.Token());
        await phoneInbox.CountAsync(3);

        var onPhone = alice.GetConversations();
        var onLaptop = laptop.GetConversations();

        Assert.Equal(["carol", "#" + group.Id, "bob"], onPhone.Select(c => c.Conversation));
        Assert.Equal(onPhone.Select(c => (c.Conversation, c.GroupId, c.Title, c.LastMessage.Id, c.UnreadCount)),
            onLaptop.Select(c => (c.Conversation, c.GroupId, c.Title, c.LastMessage.Id, c.UnreadCount)));
        Assert.Equal(("the laptop answers", MessageDirection.Outgoing, 1), (onPhone[0].LastMessage.Text, onPhone[0].LastMessage.Direction, onPhone[0].UnreadCount));
        Assert.Equal((group.Id, "Climbing", "rope at eight", 1), (onPhone[1].GroupId, onPhone[1].Title, onPhone[1].LastMessage.Text, onPhone[1].UnreadCount));
        Assert.Equal(("bob", "to bob from the phone", 0), (onPhone[2].Title, onPhone[2].LastMessage.Text, onPhone[2].UnreadCount));

        // Reading the group on the phone clears it on the laptop too.
        await alice.MarkGroupReadAsync(group.Id, [rope], Wait.Token());
        await laptopInbox.StatusAsync(rope, MessageStatus.Read);
        Assert.Equal([1, 0, 0], laptop.GetConversations().Select(c => c.UnreadCount));
    }
}
