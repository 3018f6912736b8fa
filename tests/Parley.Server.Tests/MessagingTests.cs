using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Messaging;

namespace Parley.Server.Tests;

public sealed class MessagingTests
{
    [Fact]
    public async Task Online_message_is_delivered_and_the_ack_sends_DELIVERED_to_the_sender()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);

        var id = MessageId.New();
        var sent = await a.RequestAsync(Wire.Send("bob", messageId: id, text: "hello bob"));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, sent.BodyCase);
        Assert.False(sent.SendResult.Duplicate);

        var delivered = (await b.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(EnvelopeKind.Message, delivered.Kind);
        Assert.Equal("alice", delivered.Sender);
        Assert.Equal("alice", delivered.Conversation);
        Assert.Equal("hello bob", delivered.Payload.ToStringUtf8());
        Assert.Equal(id, delivered.MessageId.ToByteArray());

        var ackResult = await b.RequestAsync(Wire.Ack(delivered.Seq));
        Assert.Equal(1u, ackResult.AckResult.Acked);

        var receipt = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(EnvelopeKind.DeliveryReceipt, receipt.Kind);
        Assert.Equal("bob", receipt.Sender);
        Assert.Equal(id, Assert.Single(receipt.ReceiptIds).ToByteArray());
    }

    [Fact]
    public async Task One_ack_for_messages_from_many_senders_sends_each_sender_a_receipt_for_its_own_messages()
    {
        await using var fx = await ServerFixture.StartAsync();
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);
        var senders = new List<(RawClient Client, List<byte[]> Ids)>();
        for (int i = 0; i < 12; i++)
        {
            var client = await RawClient.ConnectAsync(fx.Server, await RawClient.RegisterAsync(fx.Server, $"sender{i}"));
            var ids = new List<byte[]> { MessageId.New(), MessageId.New() };
            foreach (var id in ids)
            {
                Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await client.RequestAsync(Wire.Send("bob", messageId: id))).BodyCase);
            }
            senders.Add((client, ids));
        }
        var seqs = new List<ulong>();
        for (int i = 0; i < 24; i++)
        {
            seqs.Add((await b.ReceiveEnvelopeAsync()).Envelope.Seq);
        }
        Assert.Equal(24u, (await b.RequestAsync(Wire.Ack([.. seqs]))).AckResult.Acked);

        foreach (var (client, ids) in senders)
        {
            var receipt = (await client.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal(EnvelopeKind.DeliveryReceipt, receipt.Kind);
            Assert.Equal(ids.Select(Convert.ToHexString).Order(), receipt.ReceiptIds.Select(r => Convert.ToHexString(r.ToByteArray())).Order());
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Offline_device_gets_its_queue_in_order_then_QueueEmpty_and_receipts_reach_an_offline_sender()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var ids = new List<byte[]>();
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            for (int i = 0; i < 50; i++)
            {
                ids.Add(MessageId.New());
                var r = await a.RequestAsync(Wire.Send("bob", messageId: ids[^1], text: $"m{i}"));
                Assert.Equal(ServerFrame.BodyOneofCase.SendResult, r.BodyCase);
            }
        }

        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            var seqs = new List<ulong>();
            for (int i = 0; i < 50; i++)
            {
                var e = (await b.ReceiveAsync()).Envelope;
                Assert.NotNull(e);
                Assert.Equal($"m{i}", e.Payload.ToStringUtf8());
                seqs.Add(e.Seq);
            }
            Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await b.ReceiveAsync()).BodyCase);
            Assert.Equal(seqs.Order(), seqs);
            await b.RequestAsync(Wire.Ack([.. seqs]));
            var read = new ReadReceipt { Peer = "alice" };
            read.MessageIds.Add(ByteString.CopyFrom(ids[0]));
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { Read = read })).BodyCase);
        }

        // Alice was offline for all of it: her queue holds the DELIVERED receipts, then READ.
        await using var again = await RawClient.ConnectAsync(fx.Server, alice);
        var delivered = new HashSet<string>();
        ServerFrame frame;
        var kinds = new List<EnvelopeKind>();
        while ((frame = await again.ReceiveAsync()).BodyCase == ServerFrame.BodyOneofCase.Envelope)
        {
            kinds.Add(frame.Envelope.Kind);
            if (frame.Envelope.Kind == EnvelopeKind.DeliveryReceipt)
            {
                delivered.UnionWith(frame.Envelope.ReceiptIds.Select(x => x.ToBase64()));
            }
        }
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, frame.BodyCase);
        Assert.Equal(ids.Select(Convert.ToBase64String).ToHashSet(), delivered);
        Assert.Equal(EnvelopeKind.ReadReceipt, kinds[^1]);
    }

    [Fact]
    public async Task A_READ_goes_to_the_peers_devices_but_not_to_the_readers_other_devices()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var bobSecond = await RawClient.LinkAsync(fx.Server, bob);
        var id = MessageId.New();
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await a.ReceiveAsync()).BodyCase);
        var sent = await a.RequestAsync(Wire.Send("bob", [("bob", bob.DeviceId), ("bob", bobSecond.DeviceId)], id, "hello"));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, sent.BodyCase);

        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            var e = (await b.ReceiveAsync(f => f.Envelope?.Kind == EnvelopeKind.Message)).Envelope;
            await b.RequestAsync(Wire.Ack(e.Seq));
            var read = new ReadReceipt { Peer = "alice" };
            read.MessageIds.Add(ByteString.CopyFrom(id));
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { Read = read })).BodyCase);
        }

        // Alice's device gets DELIVERED, then READ.
        Assert.Equal(EnvelopeKind.DeliveryReceipt, (await a.ReceiveEnvelopeAsync()).Envelope.Kind);
        var readReceipt = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(EnvelopeKind.ReadReceipt, readReceipt.Kind);
        Assert.Equal(id, readReceipt.ReceiptIds.Single().ToByteArray());

        // Bob's second device has only the message: no plaintext READ copy was queued for it.
        await using var second = await RawClient.ConnectAsync(fx.Server, bobSecond);
        var kinds = new List<EnvelopeKind>();
        ServerFrame frame;
        while ((frame = await second.ReceiveAsync()).BodyCase == ServerFrame.BodyOneofCase.Envelope)
        {
            kinds.Add(frame.Envelope.Kind);
        }
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, frame.BodyCase);
        Assert.Contains(EnvelopeKind.Message, kinds);
        Assert.DoesNotContain(EnvelopeKind.ReadReceipt, kinds);
    }

    [Fact]
    public async Task A_resend_with_the_same_message_id_is_SENT_again_but_queued_once()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var id = MessageId.New();
        Assert.False((await a.RequestAsync(Wire.Send("bob", messageId: id))).SendResult.Duplicate);
        Assert.True((await a.RequestAsync(Wire.Send("bob", messageId: id))).SendResult.Duplicate);
        Assert.False((await a.RequestAsync(Wire.Send("bob", text: "other"))).SendResult.Duplicate);

        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        Assert.Equal("hi", (await b.ReceiveAsync()).Envelope.Payload.ToStringUtf8());
        Assert.Equal("other", (await b.ReceiveAsync()).Envelope.Payload.ToStringUtf8());
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await b.ReceiveAsync()).BodyCase);
    }

    [Fact]
    public async Task A_send_with_a_stale_device_list_is_refused_with_the_current_lists()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var alice2 = await RawClient.LinkAsync(fx.Server, alice);
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var bob2 = await RawClient.LinkAsync(fx.Server, bob);
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);

        var stale = await a.RequestAsync(Wire.Send("bob", 1));
        Assert.Equal(ErrorCode.StaleDevices, stale.Error.Code);
        var lists = stale.Error.Devices.ToDictionary(d => d.User, d => d.DeviceIds.Order().ToArray());
        Assert.Equal([1u, 2u], lists["bob"]);
        Assert.Equal([1u, 2u], lists["alice"]);

        var ok = await a.RequestAsync(Wire.Send("bob", [("bob", 1), ("bob", 2), ("alice", 2)], text: "fan-out"));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, ok.BodyCase);

        foreach (var device in new[] { bob, bob2 })
        {
            await using var c = await RawClient.ConnectAsync(fx.Server, device);
            var e = (await c.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal("fan-out", e.Payload.ToStringUtf8());
            Assert.Equal("alice", e.Conversation);
        }
        await using var own = await RawClient.ConnectAsync(fx.Server, alice2);
        var sync = (await own.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal("bob", sync.Conversation);
        Assert.Equal(1u, sync.SenderDevice);
    }

    // 16: the commit runs the send loops it wakes itself, and a loop whose live queue overflowed
    // must hop off the commit thread for its queue read (ParleyOptions.InlineSendWakes).
    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public async Task A_client_that_stops_reading_still_gets_every_envelope_in_order_once_it_reads(int inlineSendWakes)
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.InlineSendWakes = inlineSendWakes;
            o.Limits.OutboundQueueFrames = 8;
            o.Limits.MaxInFlight = 16;
            o.Limits.FramesPerSecond = 100_000;
            o.Limits.FrameBurst = 100_000;
        });
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        const int count = 300;
        var pending = new List<Task<ServerFrame>>();
        for (int i = 0; i < count; i++)
        {
            pending.Add(a.RequestAsync(Wire.Send("bob", text: $"m{i}")));
            await pending[^1];
        }

        // Bob read nothing while all that arrived; now he reads and acks as he goes.
        int next = 0;
        while (next < count)
        {
            var frame = await b.ReceiveAsync();
            if (frame.BodyCase != ServerFrame.BodyOneofCase.Envelope)
            {
                continue;
            }
            Assert.Equal($"m{next}", frame.Envelope.Payload.ToStringUtf8());
            next++;
            await b.SendAsync(Wire.Ack(frame.Envelope.Seq), request: false);
        }
    }

    [Fact]
    public async Task A_Sync_is_answered_behind_every_envelope_queued_before_it_even_those_the_window_holds_back()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxInFlight = 4);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        for (int i = 0; i < 10; i++)
        {
            // SENT: committed, so already offered to bob's live connection.
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: $"m{i}"))).BodyCase);
        }

        // Four fill bob's window; the answer waits behind the six the window holds back, sent as he acks.
        var syncId = await b.SendAsync(new ClientFrame { Sync = new Sync() });
        var seen = new List<string>();
        while (await b.ReceiveAsync() is var frame && frame.RequestId != syncId)
        {
            if (frame.BodyCase == ServerFrame.BodyOneofCase.Envelope)
            {
                seen.Add(frame.Envelope.Payload.ToStringUtf8());
                await b.SendAsync(Wire.Ack(frame.Envelope.Seq), request: false);
            }
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), seen);

        // With nothing queued the answer comes at once; a Sync without a request id is refused.
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await b.RequestAsync(new ClientFrame { Sync = new Sync() })).BodyCase);
        await b.SendAsync(new ClientFrame { Sync = new Sync() }, request: false);
        Assert.Equal(ErrorCode.BadRequest, (await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.Error)).Error.Code);
    }

    [Fact]
    public async Task A_device_that_disconnects_mid_drain_gets_the_rest_in_order_on_reconnect()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            for (int i = 0; i < 20; i++)
            {
                await a.RequestAsync(Wire.Send("bob", text: $"m{i}"));
            }
        }
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            for (int i = 0; i < 7; i++)
            {
                var e = (await b.ReceiveEnvelopeAsync()).Envelope;
                await b.RequestAsync(Wire.Ack(e.Seq));
            }
            b.Socket.Abort(); // gone without a close
        }
        await using var again = await RawClient.ConnectAsync(fx.Server, bob);
        for (int i = 7; i < 20; i++)
        {
            Assert.Equal($"m{i}", (await again.ReceiveAsync()).Envelope.Payload.ToStringUtf8());
        }
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await again.ReceiveAsync()).BodyCase);
    }

    [Fact]
    public async Task Queued_envelopes_accounts_and_last_seen_survive_a_server_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        Protocol.DeviceCredentials bob;
        await using (var first = await ParleyServer.StartAsync(dataDir))
        {
            var alice = await RawClient.RegisterAsync(first, "alice");
            bob = await RawClient.RegisterAsync(first, "bob");
            await using var a = await RawClient.ConnectAsync(first, alice);
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: "kept"))).BodyCase);
            await a.DisposeAsync();
            await Wait.UntilAsync(() => first.App.Services.GetRequiredService<Accounts.AccountDirectory>().Find("alice")!.LastSeen > 0);
        }
        await using var fx = await ServerFixture.StartAsync(dataDir: dataDir);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        Assert.Equal("kept", (await b.ReceiveAsync()).Envelope.Payload.ToStringUtf8());
        var presence = await b.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { "alice" } } });
        Assert.True(Assert.Single(presence.PresenceSnapshot.Users).LastSeen > 0, "last seen was saved at shutdown");
    }

    [Fact]
    public async Task Undelivered_envelopes_expire_after_the_time_to_live()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.EnvelopeTtlDays = 30, clock);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            await a.RequestAsync(Wire.Send("bob", text: "old"));
        }
        clock.Advance(TimeSpan.FromDays(29));
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            await a.RequestAsync(Wire.Send("bob", text: "newer"));
        }
        // Moving the clock fires the hourly sweep; sweeping once more by hand makes sure it ran.
        clock.Advance(TimeSpan.FromDays(2));
        await fx.Server.App.Services.GetRequiredService<ExpirySweeper>().SweepAsync();

        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        Assert.Equal("newer", (await b.ReceiveAsync()).Envelope.Payload.ToStringUtf8());
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await b.ReceiveAsync()).BodyCase);
    }

    [Fact]
    public async Task Typing_and_presence_reach_watchers_and_are_never_queued()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using (var first = await RawClient.ConnectAsync(fx.Server, bob))
        {
            // Bob writing to Alice makes them conversation peers and lets Alice see his presence.
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await first.RequestAsync(Wire.Send("alice"))).BodyCase);
        }
        await Wait.UntilAsync(() => fx.Server.App.Services.GetRequiredService<Accounts.AccountDirectory>().Find("bob")!.LastSeen > 0);
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var snapshot = await a.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { "bob" } } });
        Assert.False(Assert.Single(snapshot.PresenceSnapshot.Users).Online);

        // Typing to an offline peer goes nowhere and is not kept.
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(new ClientFrame { Typing = new Typing { Peer = "bob", Typing_ = true } })).BodyCase);

        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            var online = await a.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PresenceUpdate);
            Assert.True(online.PresenceUpdate.Online);
            Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, (await b.ReceiveAsync()).BodyCase);
            await a.RequestAsync(new ClientFrame { Typing = new Typing { Peer = "bob", Typing_ = true } });
            var typing = await b.ReceiveAsync();
            Assert.Equal("alice", typing.TypingUpdate.User);
            Assert.True(typing.TypingUpdate.Typing);
        }
        var offline = await a.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PresenceUpdate);
        Assert.False(offline.PresenceUpdate.Online);
        Assert.True(offline.PresenceUpdate.LastSeen > 0);
    }
}
