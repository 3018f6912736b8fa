using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>The SDK facing group envelopes it cannot open yet (sender-key ciphertext): acked quietly.</summary>
public sealed class GroupEnvelopeTests
{
    [Fact]
    public async Task The_sdk_acks_a_group_message_and_a_group_change_without_asking_the_sender_for_a_resend()
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
        // Anything bob queued for alice (a retry request would be) goes out before a later message.
        await bob.SendTextAsync("alice", "marker", Wait.Token());
        await Wait.UntilAsync(() => alice.Envelopes.Any(e => e.Kind == EnvelopeKind.Message && e.Sender == "bob"), "bob's marker");
        Assert.DoesNotContain(alice.Envelopes, e => e.Kind == EnvelopeKind.RetryRequest);
        Assert.Empty(inbox.Messages);
    }
}
