using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Client.Media;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>Files in group chats through the real SDK and server: uploaded once, the pointer sent with the sender key to every member device.</summary>
public sealed class GroupMediaTests
{
    private static string WriteFile(TestServer server, string name, byte[] bytes) => MediaTests.WriteFile(server.NewProfileDir(), name, bytes);

    private static Task<Attachment> ReceiveAttachmentAsync(ParleyClient client, string messageId) => MediaTests.ReceiveAttachmentAsync(client, messageId);

    [Fact]
    public async Task Group_file_reaches_every_member_device_and_the_sender_other_device_once_and_downloads_byte_for_byte()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var alicePhone = await server.LinkAsync(alice);
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var carol = await server.RegisterAsync("carol");
        var ticks = new Inbox(alice);
        var others = new[] { alicePhone, bob, bobLaptop, carol }.Select(c => (Client: c, Inbox: new Inbox(c))).ToList();
        var group = await alice.CreateGroupAsync("Photos", ["bob", "carol"], Wait.Token());
        var uploads = new ConcurrentQueue<TransferProgressEventArgs>();
        alice.TransferProgress += (_, e) => uploads.Enqueue(e);

        var bytes = RandomNumberGenerator.GetBytes(1024 * 1024 + 3);
        var path = WriteFile(server, "summit.jpg", bytes);
        var id = await alice.SendGroupFileAsync(group.Id, path, caption: "the summit", cancellationToken: Wait.Token());

        // Uploaded once, with progress to the end, under the message's id.
        Assert.All(uploads, u => Assert.Equal((id, TransferDirection.Upload), (u.MessageId, u.Direction)));
        Assert.Equal(uploads.Last().TotalBytes, uploads.Last().BytesDone);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(server.DataDir, "media"), "*.blob"));
        var mine = alice.GetGroupConversation(group.Id).Single(m => m.Id == id);
        Assert.Equal((MessageDirection.Outgoing, "the summit"), (mine.Direction, mine.Text));
        Assert.Equal(path, alice.FindAttachment(id)!.SavedPath);

        foreach (var (client, inbox) in others)
        {
            var attachment = await ReceiveAttachmentAsync(client, id);
            Assert.Equal(("summit.jpg", "image/jpeg", (long)bytes.Length, "the summit"), (attachment.FileName, attachment.ContentType, attachment.Size, attachment.Caption));
            var message = Assert.Single(inbox.Messages);
            Assert.Equal((id, "#" + group.Id, "alice", "the summit"), (message.Id, message.Peer, message.Sender, message.Text));
            Assert.Equal(client.Credentials.User == "alice" ? MessageDirection.Outgoing : MessageDirection.Incoming, message.Direction);
            var saved = await client.DownloadAttachmentAsync(id, cancellationToken: Wait.Token());
            Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
        }

        // Group ticks as for a text: ✓✓ once every member device has it.
        await ticks.StatusAsync(id, MessageStatus.Delivered);
        Assert.Equal(3, alice.GetMemberReceipts(id).Count);

        // A redelivery is deduplicated: shown once.
        await bob.DisconnectAsync();
        await bob.ConnectAsync(Wait.Token());
        await bob.SyncAsync(Wait.Token());
        Assert.Single(others[1].Inbox.Messages);
        Assert.Equal([id], bob.GetGroupConversation(group.Id).Select(m => m.Id));
    }

    [Fact]
    public async Task Removed_member_real_client_cannot_read_a_group_file_sent_after_the_removal()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        var group = await alice.CreateGroupAsync("Plans", ["bob", "carol"], Wait.Token());
        var before = await alice.SendGroupFileAsync(group.Id, WriteFile(server, "before.txt", "old plan"u8.ToArray()), cancellationToken: Wait.Token());
        await ReceiveAttachmentAsync(bob, before);

        await alice.RemoveGroupMemberAsync(group.Id, "bob", Wait.Token());
        var secret = RandomNumberGenerator.GetBytes(4096);
        var after = await alice.SendGroupFileAsync(group.Id, WriteFile(server, "after.bin", secret), caption: "new plan", cancellationToken: Wait.Token());

        // carol gets it; bob's own client cannot open the body, so never learns the media id or key.
        await ReceiveAttachmentAsync(carol, after);
        Assert.Equal(secret, await File.ReadAllBytesAsync(await carol.DownloadAttachmentAsync(after, cancellationToken: Wait.Token())));
        var body = tap.GroupSends.Single(s => MessageId.ToText(s.MessageId.Span) == after).Body.ToByteArray();
        Assert.Null(bob.Testing.TryReadGroupBody("alice", alice.Credentials.DeviceId, body));
        await bob.SyncAsync(Wait.Token());
        Assert.Null(bob.FindAttachment(after));
        Assert.Equal([before], bob.GetGroupConversation(group.Id).Select(m => m.Id));
        var refused = await Assert.ThrowsAsync<ParleyException>(() => bob.SendGroupFileAsync(group.Id, WriteFile(server, "x.bin", [1]), cancellationToken: Wait.Token()));
        Assert.Equal(ErrorCode.NotAMember, refused.Code);
    }

    [Fact]
    public async Task A_newly_linked_device_gets_group_files_in_its_history_and_downloads_them()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var group = await alice.CreateGroupAsync("Archive", ["bob"], Wait.Token());
        var fromAlice = RandomNumberGenerator.GetBytes(70_000);
        var fromBob = RandomNumberGenerator.GetBytes(5_000);
        var mine = await alice.SendGroupFileAsync(group.Id, WriteFile(server, "mine.pdf", fromAlice), cancellationToken: Wait.Token());
        await bob.SyncAsync(Wait.Token());
        var theirs = await bob.SendGroupFileAsync(group.Id, WriteFile(server, "theirs.png", fromBob), caption: "look", cancellationToken: Wait.Token());
        await ReceiveAttachmentAsync(alice, theirs);

        var request = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "laptop", Wait.Options(), Wait.Token());
        await alice.ApproveLinkAsync(request.Code, Wait.Token());
        await using var laptop = await request.Linked.WaitAsync(Wait.Limit);

        Assert.Equal(
            new[] { (mine, MessageDirection.Outgoing, "alice"), (theirs, MessageDirection.Incoming, "bob") },
            laptop.GetGroupConversation(group.Id).Select(m => (m.Id, m.Direction, m.Sender)));
        Assert.Equal(("theirs.png", "look"), (laptop.FindAttachment(theirs)!.FileName, laptop.FindAttachment(theirs)!.Caption));
        Assert.Equal(fromAlice, await File.ReadAllBytesAsync(await laptop.DownloadAttachmentAsync(mine, cancellationToken: Wait.Token())));
        Assert.Equal(fromBob, await File.ReadAllBytesAsync(await laptop.DownloadAttachmentAsync(theirs, cancellationToken: Wait.Token())));
    }

    [Fact]
    public async Task A_group_upload_interrupted_by_a_closed_client_resumes_from_the_server_offset_and_keeps_the_one_to_one_upload_of_the_same_file_apart()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var group = await alice.CreateGroupAsync("Films", ["bob"], Wait.Token());
        var bytes = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        var path = WriteFile(server, "film.mp4", bytes);

        // The first run stops once a few MiB are up, as a killed process or a dropped network would.
        using var stop = new CancellationTokenSource();
        alice.TransferProgress += (_, e) =>
        {
            if (e.BytesDone >= 2 * 1024 * 1024)
            {
                stop.Cancel();
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alice.SendGroupFileAsync(group.Id, path, cancellationToken: stop.Token));
        await alice.DisposeAsync();

        var again = server.Reopen(alice.ProfileDirectory);
        var progress = new ConcurrentQueue<TransferProgressEventArgs>();
        again.TransferProgress += (_, e) => progress.Enqueue(e);
        // The same file to bob alone is another upload (another message, another key), not the group's.
        var direct = await again.SendFileAsync("bob", path, cancellationToken: Wait.Token());
        Assert.Equal(0, progress.First().ResumedFrom);
        progress.Clear();
        var id = await again.SendGroupFileAsync(group.Id, path, cancellationToken: Wait.Token());

        Assert.NotEqual(direct, id);
        var uploads = progress.Where(p => p.Direction == TransferDirection.Upload).ToArray();
        Assert.True(uploads[0].ResumedFrom > 0, "the second run continued from the server's offset");
        Assert.Equal(uploads[^1].TotalBytes, uploads[^1].BytesDone);
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(server.DataDir, "media"), "*.blob").Count());
        var attachment = await ReceiveAttachmentAsync(bob, id);
        Assert.Equal("#" + group.Id, bob.FindMessage(id)!.Peer);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(await bob.DownloadAttachmentAsync(attachment.MessageId, cancellationToken: Wait.Token())));
    }
}
