using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>The SDK facing a group envelope it cannot open (no sender key from that device): acked, shown nowhere, one retry request.</summary>
public sealed class GroupEnvelopeTests
{
    [Fact]
    public async Task A_group_message_the_sdk_cannot_open_is_acked_shown_nowhere_and_answered_with_one_retry_request()
    {
        await using var server = await TestServer.StartAsync();
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await using var alice = await RawDevice.RegisterAsync(server.BaseUri, "alice");
        await alice.UploadKeysAsync(IdentityKeyPair.Generate());
        var created = await alice.RequestAsync(new ClientFrame { CreateGroup = new CreateGroup { Members = { "bob" } } });
        var id = ByteString.CopyFrom(MessageId.New());
        var send = new SendGroupMessage { MessageId = id, GroupId = created.GroupState.GroupId, SentAt = 1, Body = ByteString.CopyFromUtf8("sender-key ciphertext") };
        send.Devices.Add(new DeviceList { User = "bob", DeviceIds = { bob.Credentials.DeviceId } });
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await alice.RequestAsync(new ClientFrame { SendGroup = send })).BodyCase);

        await bob.SyncAsync(Wait.Token());
        // bob acked it: alice gets DELIVERED for the group message.
        await Wait.UntilAsync(() => alice.Envelopes.Any(e => e.Kind == EnvelopeKind.DeliveryReceipt && e.ReceiptIds.Contains(id)), "DELIVERED for the group message");
        // What bob queued for alice (the retry request) goes out before a later message.
        await bob.SendTextAsync("alice", "marker", Wait.Token());
        await Wait.UntilAsync(() => alice.Envelopes.Any(e => e.Kind == EnvelopeKind.Message && e.Sender == "bob"), "bob's marker");
        var retry = Assert.Single(alice.Envelopes, e => e.Kind == EnvelopeKind.RetryRequest);
        Assert.Equal(id, retry.MessageId);
        Assert.Empty(inbox.Messages);
        Assert.Single(inbox.DecryptionFailures);
        // The group change was applied: bob knows the group and its members.
        Assert.Equal(["alice", "bob"], bob.FindGroup(Parley.Client.Groups.GroupConversation.IdText(created.GroupState.GroupId.Span))!.Members.Select(m => m.User).Order());
    }
}
