using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// The SDK holds the acks of receipt envelopes back (ParleyClientOptions.ReceiptAckDelay): they ride
/// in the next message Ack, or go alone at the deadline, and never hold up a READ. The holding
/// client runs on a FakeTimeProvider, so its deadline passes only when the test says; what reached
/// the server is read from the gateway's frames (FrameTap).
/// </summary>
public sealed class ReceiptAckTests
{
    [Fact]
    public async Task A_held_receipt_ack_with_no_other_traffic_reaches_the_server_at_the_deadline_and_the_receipt_is_not_sent_again()
    {
        await using var scene = await AliceHoldingAsync();
        var (tap, time, alice, bob, aliceEvents) = (scene.Tap, scene.Time, scene.Alice, scene.Bob, scene.AliceEvents);

        var id = await alice.SendTextAsync("bob", "tell me when you have it", Wait.Token());
        await aliceEvents.StatusAsync(id, MessageStatus.Delivered);
        var receipt = Assert.Single(Envelopes(tap, EnvelopeKind.DeliveryReceipt)).Seq;
        Assert.Empty(AcksCarrying(tap, receipt)); // held: the clock has not moved

        // The clock moves in steps: the ack pump starts its deadline when it takes the seq, which may be after this point.
        await Wait.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return AcksCarrying(tap, receipt).Count > 0;
        }, "the receipt's ack reaches the server once its deadline passed");
        var alone = Assert.Single(AcksCarrying(tap, receipt));
        Assert.Equal(new[] { receipt }, alone.Seqs);
        await Wait.UntilAsync(() => scene.Server.QueuedFor(alice) == 0, "the server commits the receipt's delete");

        // A new connection gets nothing again: the server deleted the receipt when the ack came.
        int drains = QueueEmpties(tap);
        alice.Testing.DropConnection();
        await Wait.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100)); // the reconnect backoff runs on the fake clock
            return QueueEmpties(tap) > drains;
        }, "alice reconnects and drains her queue");
        Assert.Single(Envelopes(tap, EnvelopeKind.DeliveryReceipt));
        Assert.Equal([MessageStatus.Sent, MessageStatus.Delivered], aliceEvents.StatusesOf(id));
    }

    [Fact]
    public async Task A_held_receipt_ack_rides_in_the_same_Ack_frame_as_the_next_message_ack()
    {
        await using var scene = await AliceHoldingAsync();
        var (tap, alice, bob, aliceEvents) = (scene.Tap, scene.Alice, scene.Bob, scene.AliceEvents);

        var first = await alice.SendTextAsync("bob", "one", Wait.Token());
        await aliceEvents.StatusAsync(first, MessageStatus.Delivered);
        var receipt = Assert.Single(Envelopes(tap, EnvelopeKind.DeliveryReceipt)).Seq;

        var answer = await bob.SendTextAsync("alice", "two", Wait.Token());
        await aliceEvents.CountAsync(1);
        var answerId = ByteString.CopyFrom(MessageId.Parse(answer)!);
        var message = Envelopes(tap, EnvelopeKind.Message).Single(e => e.MessageId == answerId).Seq;
        await Wait.UntilAsync(() => AcksCarrying(tap, message).Count > 0, "alice acks bob's message");

        // One Ack frame carries both seqs, and the receipt's seq went in no other.
        var ack = Assert.Single(AcksCarrying(tap, message));
        Assert.Equal(new[] { receipt, message }.Order(), ack.Seqs.Order());
        Assert.Single(AcksCarrying(tap, receipt));

        // The SDK's acks ask for no answer, so the server writes no AckResult: a frame fewer per message.
        var acks = tap.Frames.Where(f => f.Inbound).Select(f => ClientFrame.Parser.ParseFrom(f.Bytes)).Where(f => f.BodyCase == ClientFrame.BodyOneofCase.Ack).ToList();
        Assert.True(acks.Count >= 2, $"{acks.Count} Ack frames"); // at least bob's of "one" and alice's of the receipt with "two"
        Assert.All(acks, f => Assert.Equal(0ul, f.RequestId));
        Assert.DoesNotContain(Outbound(tap), f => f.BodyCase == ServerFrame.BodyOneofCase.AckResult);
    }

    [Fact]
    public async Task A_read_sent_right_after_a_message_arrives_does_not_wait_for_held_receipt_acks()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var alice = await server.RegisterAsync("alice");
        await using var bob = await ParleyClient.RegisterAsync(server.NewProfileDir(), server.BaseUri, "bob", options: Holding(time));
        var aliceEvents = new Inbox(alice);
        var bobEvents = new Inbox(bob);
        await alice.SyncAsync(Wait.Token());
        await bob.SyncAsync(Wait.Token());

        var id = await alice.SendTextAsync("bob", "read me", Wait.Token());
        await bobEvents.CountAsync(1);
        // Bob's own message comes back DELIVERED: he now holds that receipt's ack, and his clock never reaches the deadline.
        var own = await bob.SendTextAsync("alice", "mine", Wait.Token());
        await bobEvents.StatusAsync(own, MessageStatus.Delivered);
        var receipt = Assert.Single(Envelopes(tap, EnvelopeKind.DeliveryReceipt), e => e.ReceiptIds.Contains(ByteString.CopyFrom(MessageId.Parse(own)!))).Seq;

        await bob.MarkReadAsync("alice", [id], Wait.Token());

        // The READ went past the held ack (still not sent), yet behind the ack that made DELIVERED.
        Assert.Empty(AcksCarrying(tap, receipt));
        await aliceEvents.StatusAsync(id, MessageStatus.Read);
        Assert.Equal([MessageStatus.Sent, MessageStatus.Delivered, MessageStatus.Read], aliceEvents.StatusesOf(id));
    }

    /// <summary>A server with a frame tap; alice (the SDK's default receipt-ack policy on a fake clock) and bob, both synced.</summary>
    private static async Task<AliceHolding> AliceHoldingAsync()
    {
        var tap = new FrameTap();
        var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var alice = await ParleyClient.RegisterAsync(server.NewProfileDir(), server.BaseUri, "alice", options: Holding(time));
        var bob = await server.RegisterAsync("bob");
        var aliceEvents = new Inbox(alice);
        await bob.SyncAsync(Wait.Token());
        await alice.SyncAsync(Wait.Token());
        return new AliceHolding(server, tap, time, alice, bob, aliceEvents);
    }

    private sealed record AliceHolding(TestServer Server, FrameTap Tap, FakeTimeProvider Time, ParleyClient Alice, ParleyClient Bob, Inbox AliceEvents) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    /// <summary>Test client options with the default receipt-ack policy on <paramref name="time"/>.</summary>
    private static ParleyClientOptions Holding(TimeProvider time)
    {
        var options = Wait.Options();
        options.Time = time;
        return options;
    }

    private static IEnumerable<ServerFrame> Outbound(FrameTap tap) =>
        tap.Frames.Where(f => !f.Inbound).Select(f => ServerFrame.Parser.ParseFrom(f.Bytes));

    /// <summary>The envelopes of <paramref name="kind"/> the server wrote, to anyone.</summary>
    private static List<Envelope> Envelopes(FrameTap tap, EnvelopeKind kind) => [.. Outbound(tap)
        .Where(f => f.BodyCase == ServerFrame.BodyOneofCase.Envelope && f.Envelope.Kind == kind)
        .Select(f => f.Envelope)];

    private static int QueueEmpties(FrameTap tap) => Outbound(tap).Count(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);

    /// <summary>The Ack frames the server read that carry <paramref name="seq"/> (seqs are unique server-wide).</summary>
    private static List<Ack> AcksCarrying(FrameTap tap, ulong seq) => [.. tap.Frames
        .Where(f => f.Inbound)
        .Select(f => ClientFrame.Parser.ParseFrom(f.Bytes))
        .Where(f => f.BodyCase == ClientFrame.BodyOneofCase.Ack && f.Ack.Seqs.Contains(seq))
        .Select(f => f.Ack)];
}
