using Google.Protobuf;
using Parley.Client;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// A 1,024-member group end to end at SDK level. 1,024 SDK clients in one test process would be
/// 1,024 stores, connection loops and key sets on a shared two-core machine, so: the sender and
/// three member devices (bob with two devices, carol) are real SDK clients that decrypt and show
/// the message; the other 1,020 members are raw devices with published keys, registered and then
/// disconnected, whose queues are read afterwards: each holds the sender key in a 1:1 message from
/// the sender, then the group messages with the one body every member device got.
/// </summary>
public sealed class LargeGroupTests
{
    private const int Members = 1024;

    [Fact]
    public async Task A_1024_member_group_message_reaches_every_member_device_once_after_its_sender_key()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            // The test registers 1,021 accounts from one address and the sender fetches 1,023 key bundles in a burst.
            o.Limits.RegistrationsPerMinutePerAddress = 100_000;
            o.Limits.BundleFetchesPerMinute = 100_000;
            o.Limits.FramesPerSecond = 100_000;
            o.Limits.FrameBurst = 100_000;
        });
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var carol = await server.RegisterAsync("carol");
        var real = new[] { bob, bobLaptop, carol }.Select(c => (Client: c, Inbox: new Inbox(c))).ToList();

        var raw = new Parley.Protocol.DeviceCredentials[Members - 3];
        await Parallel.ForAsync(0, raw.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            await using var device = await RawDevice.RegisterAsync(server.BaseUri, $"m{i:D4}");
            await device.UploadKeysAsync(IdentityKeyPair.Generate());
            raw[i] = device.Credentials;
        });

        var group = await alice.CreateGroupAsync("Everyone", ["bob", "carol", .. raw.Select(r => r.User)], Wait.Token());
        Assert.Equal(Members, group.Members.Count);
        var id = await alice.SendGroupTextAsync(group.Id, "hello, all 1024", Wait.Token());

        foreach (var (client, inbox) in real)
        {
            await client.SyncAsync(Wait.Token());
            await inbox.CountAsync(1);
            var message = Assert.Single(inbox.Messages);
            Assert.Equal((id, "hello, all 1024", "Everyone"), (message.Id, message.Text, client.FindGroup(group.Id)!.Title));
        }

        ByteString? body = null;
        foreach (var credentials in raw)
        {
            await using var device = await RawDevice.ConnectAsync(server.BaseUri, credentials);
            await Wait.UntilAsync(() => device.Pushes.Any(p => p.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty), $"{credentials.User}'s queue");
            var envelopes = device.Envelopes;
            var text = Assert.Single(envelopes, e => e.MessageId.Span.SequenceEqual(MessageId.Parse(id)));
            Assert.Equal(("alice", group.Id), (text.Sender, Convert.ToHexStringLower(text.GroupId.Span)));
            body ??= text.Payload;
            Assert.Equal(body, text.Payload); // one body for every member device
            // The sender key came first, in a 1:1 message from alice's device to this device alone.
            var key = Assert.Single(envelopes, e => e.Kind == EnvelopeKind.Message && e.GroupId.IsEmpty && e.Sender == "alice");
            Assert.True(key.Seq < text.Seq);
            Assert.Equal(2, envelopes.Count(e => e.Kind == EnvelopeKind.Message && e.GroupId == text.GroupId)); // the title, then the text
        }
        // Alice tracks a tick for every member device: bob's two, carol's and the 1,020 others.
        var receipts = alice.GetMemberReceipts(id);
        Assert.Equal(Members, receipts.Count);
        Assert.Equal(Members - 1, receipts.Select(r => r.User).Distinct().Count());
    }
}
