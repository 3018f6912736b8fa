using System.Net.WebSockets;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Configuration;

namespace Parley.Server.Tests;

/// <summary>Each abuse limit against the real server, with small limit values so a test reaches them in a few frames.</summary>
public sealed class AbuseLimitTests
{
    private static async Task<(ServerFixture Fx, Dictionary<string, DeviceCredentials> Users)> StartAsync(
        Action<LimitOptions> limits, TimeProvider? time = null, Action<IServiceCollection>? services = null, params string[] users)
    {
        var fx = await ServerFixture.StartAsync(o => limits(o.Limits), time, services: services);
        var registered = new Dictionary<string, DeviceCredentials>();
        foreach (var user in users)
        {
            registered[user] = await RawClient.RegisterAsync(fx.Server, user);
        }
        return (fx, registered);
    }

    private static async Task<ServerFrame> SendAsync(RawClient from, string to, string text = "hi", byte[]? id = null) =>
        await from.RequestAsync(Wire.Send(to, messageId: id, text: text));

    [Fact]
    public async Task Sends_over_the_sender_rate_are_RATE_LIMITED_until_the_bucket_refills()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (fx, u) = await StartAsync(l => (l.MessageBurstPerSender, l.MessagesPerSecondPerSender) = (3, 1), clock, null, "alice", "bob", "carol");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        await using var c = await RawClient.ConnectAsync(fx.Server, u["carol"]);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, i % 2 == 0 ? "bob" : "carol")).BodyCase);
        }
        var refused = await SendAsync(a, "bob");
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.InRange(refused.Error.RetryAfterMs, 1u, 1000u);

        // Another sender is not affected; after a second the sender may go on.
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(c, "bob")).BodyCase);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
    }

    [Fact]
    public async Task Sends_to_one_recipient_over_the_pair_rate_are_refused_while_other_recipients_still_get_messages()
    {
        var (fx, u) = await StartAsync(l => (l.MessageBurstPerRecipient, l.MessagesPerSecondPerRecipient) = (2, 0.001), null, null, "alice", "bob", "carol");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
        var refused = await SendAsync(a, "bob");
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.True(refused.Error.RetryAfterMs > 0);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "carol")).BodyCase);
    }

    [Fact]
    public async Task First_messages_to_new_users_are_limited_per_account_and_existing_conversations_go_on()
    {
        var (fx, u) = await StartAsync(l => (l.NewContactBurst, l.NewContactsPerHour) = (2, 0.001), null, null, "alice", "bob", "carol", "dave");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "carol")).BodyCase);
        var refused = await SendAsync(a, "dave");
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.True(refused.Error.RetryAfterMs > 0);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("alice", [], text: "note to self"))).BodyCase);
        // The budget is per account: Dave may still start a conversation.
        await using var d = await RawClient.ConnectAsync(fx.Server, u["dave"]);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(d, "alice")).BodyCase);
    }

    [Fact]
    public async Task A_full_device_queue_refuses_sends_with_RECIPIENT_QUEUE_FULL_until_acks_make_room()
    {
        var (fx, u) = await StartAsync(l => l.MaxQueuedEnvelopesPerDevice = 3, null, null, "alice", "bob", "carol", "dave");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", $"m{i}")).BodyCase);
        }
        Assert.Equal(ErrorCode.RecipientQueueFull, (await SendAsync(a, "bob", "m3")).Error.Code);
        // Other recipients of the same sender are unaffected.
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "carol")).BodyCase);

        await using (var b = await RawClient.ConnectAsync(fx.Server, u["bob"]))
        {
            var seqs = new List<ulong>();
            for (int i = 0; i < 3; i++)
            {
                var e = (await b.ReceiveEnvelopeAsync()).Envelope;
                Assert.Equal($"m{i}", e.Payload.ToStringUtf8());
                seqs.Add(e.Seq);
            }
            Assert.Equal(3u, (await b.RequestAsync(Wire.Ack([.. seqs]))).AckResult.Acked);
        }
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", "m3")).BodyCase);
    }

    [Fact]
    public async Task The_queue_cap_counts_bytes_and_survives_a_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        void Limits(ParleyOptions o) => o.Limits.MaxQueuedBytesPerDevice = 3000;
        DeviceCredentials alice;
        await using (var first = await ParleyServer.StartAsync(dataDir, Limits))
        {
            alice = await RawClient.RegisterAsync(first, "alice");
            await RawClient.RegisterAsync(first, "bob");
            await using var a = await RawClient.ConnectAsync(first, alice);
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", new string('x', 1400))).BodyCase);
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", new string('y', 1400))).BodyCase);
            Assert.Equal(ErrorCode.RecipientQueueFull, (await SendAsync(a, "bob", new string('z', 1400))).Error.Code);
            // A small one still fits under the byte cap.
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", "short")).BodyCase);
        }
        await using var fx = await ServerFixture.StartAsync(Limits, dataDir: dataDir);
        await using var again = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ErrorCode.RecipientQueueFull, (await SendAsync(again, "bob", new string('z', 1400))).Error.Code);
    }

    [Fact]
    public async Task A_sync_copy_for_the_senders_own_full_device_is_skipped_and_the_send_still_reaches_the_recipient()
    {
        var (fx, u) = await StartAsync(l => l.MaxQueuedEnvelopesPerDevice = 2, null, null, "alice", "bob");
        await using var _ = fx;
        var tablet = await RawClient.LinkAsync(fx.Server, u["alice"]);
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        await using var b = await RawClient.ConnectAsync(fx.Server, u["bob"]);
        var devices = new[] { ("bob", 1u), ("alice", tablet.DeviceId) };
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", devices, text: $"m{i}"))).BodyCase);
            var e = (await b.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal($"m{i}", e.Payload.ToStringUtf8());
            Assert.Equal(1u, (await b.RequestAsync(Wire.Ack(e.Seq))).AckResult.Acked);
        }
        // The offline tablet held m0 and Bob's DELIVERED for it: full, so it missed m1 (receipts
        // are not capped: each answers a message this account sent, so the sender's rate bounds them).
        await using var t = await RawClient.ConnectAsync(fx.Server, tablet);
        var messages = new List<string>();
        int receipts = 0;
        ServerFrame frame;
        while ((frame = await t.ReceiveAsync()).BodyCase == ServerFrame.BodyOneofCase.Envelope)
        {
            if (frame.Envelope.Kind == EnvelopeKind.Message)
            {
                messages.Add(frame.Envelope.Payload.ToStringUtf8());
            }
            else
            {
                receipts++;
            }
        }
        Assert.Equal(["m0"], messages);
        Assert.Equal(2, receipts);
    }

    [Fact]
    public async Task READ_is_forwarded_only_for_ids_the_peer_sent_the_reader()
    {
        var (fx, u) = await StartAsync(_ => { }, null, null, "alice", "bob", "mallory");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        await using var b = await RawClient.ConnectAsync(fx.Server, u["bob"]);
        await using var m = await RawClient.ConnectAsync(fx.Server, u["mallory"]);
        var sentToBob = MessageId.New();
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob", id: sentToBob)).BodyCase);
        var delivered = (await b.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(1u, (await b.RequestAsync(Wire.Ack(delivered.Seq))).AckResult.Acked);
        Assert.Equal(EnvelopeKind.DeliveryReceipt, (await a.ReceiveEnvelopeAsync()).Envelope.Kind);

        // Mallory never got it: her READ is refused and queues nothing.
        Assert.Equal(ErrorCode.NotFound, (await m.RequestAsync(Read("alice", sentToBob))).Error.Code);
        // Bob's READ names his message and a made-up one: only his goes to Alice.
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Read("alice", MessageId.New(), sentToBob))).BodyCase);
        var read = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal((EnvelopeKind.ReadReceipt, "bob"), (read.Kind, read.Sender));
        Assert.Equal(sentToBob, Assert.Single(read.ReceiptIds).ToByteArray());
    }

    [Fact]
    public async Task A_retry_request_a_stranger_provoked_does_not_show_him_the_users_presence()
    {
        var (fx, u) = await StartAsync(_ => { }, null, null, "alice", "mallory");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        await using var m = await RawClient.ConnectAsync(fx.Server, u["mallory"]);
        var retry = Wire.Send("mallory", [("mallory", 1u)]);
        retry.Send.Kind = EnvelopeKind.RetryRequest;
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(retry)).BodyCase);
        Assert.Empty(await WatchAsync(m, "alice"));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "mallory")).BodyCase);
        Assert.Single(await WatchAsync(m, "alice"));
    }

    [Fact]
    public async Task Typing_goes_only_to_conversation_peers()
    {
        var (fx, u) = await StartAsync(_ => { }, null, null, "alice", "bob", "mallory");
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        await using var b = await RawClient.ConnectAsync(fx.Server, u["bob"]);
        await using var m = await RawClient.ConnectAsync(fx.Server, u["mallory"]);
        Assert.Equal(ErrorCode.Forbidden, (await m.RequestAsync(TypingTo("bob"))).Error.Code);

        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(a, "bob")).BodyCase);
        // Either side of a conversation may type, whoever wrote first.
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(TypingTo("alice"))).BodyCase);
        Assert.Equal("bob", (await a.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.TypingUpdate)).TypingUpdate.User);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(TypingTo("bob"))).BodyCase);
        Assert.Equal("alice", (await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.TypingUpdate)).TypingUpdate.User);
        Assert.Equal(ErrorCode.Forbidden, (await m.RequestAsync(TypingTo("bob"))).Error.Code);
    }

    [Fact]
    public async Task Presence_is_shown_per_the_watched_users_setting_which_lasts_across_restarts()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        Dictionary<string, DeviceCredentials> u = [];
        await using (var first = await ParleyServer.StartAsync(dataDir))
        {
            foreach (var user in new[] { "alice", "bob", "mallory" })
            {
                u[user] = await RawClient.RegisterAsync(first, user);
            }
            await using var b = await RawClient.ConnectAsync(first, u["bob"]);
            await using var a = await RawClient.ConnectAsync(first, u["alice"]);
            await using var m = await RawClient.ConnectAsync(first, u["mallory"]);

            // Default CONTACTS: only users Bob has written to see him; Mallory writing to him does not count.
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(m, "bob")).BodyCase);
            Assert.Empty(await WatchAsync(a, "bob"));
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await SendAsync(b, "alice")).BodyCase);
            Assert.True(Assert.Single(await WatchAsync(a, "bob")).Online);
            Assert.Empty(await WatchAsync(m, "bob"));

            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Visibility(PresenceVisibility.Everyone))).BodyCase);
            Assert.Single(await WatchAsync(m, "bob"));
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Visibility(PresenceVisibility.Nobody))).BodyCase);
            Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(Visibility((PresenceVisibility)7))).Error.Code);
        }
        await using var fx = await ServerFixture.StartAsync(dataDir: dataDir);
        await using var again = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        Assert.Empty(await WatchAsync(again, "bob"));
        await using var bob = await RawClient.ConnectAsync(fx.Server, u["bob"]);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await bob.RequestAsync(Visibility(PresenceVisibility.Contacts))).BodyCase);
        // The contact edge Bob → Alice was stored too.
        Assert.Single(await WatchAsync(again, "bob"));
    }

    [Fact]
    public async Task One_time_prekeys_are_budgeted_per_target_device_whoever_asks()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (fx, u) = await StartAsync(l => (l.OneTimePreKeyBurst, l.OneTimePreKeysPerDevicePerHour) = (3, 1), clock, null, "bob", "reader0", "reader1", "reader2", "reader3");
        await using var _ = fx;
        await using (var b = await RawClient.ConnectAsync(fx.Server, u["bob"]))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = PreKeyUploads.Upload(10, 10) })).BodyCase);
        }
        var bundles = new List<PreKeyBundle>();
        for (int i = 0; i < 4; i++)
        {
            await using var r = await RawClient.ConnectAsync(fx.Server, u[$"reader{i}"]);
            bundles.Add(Assert.Single((await r.RequestAsync(FetchBob())).PrekeyBundles.Bundles));
        }
        Assert.Equal([1u, 2u, 3u], bundles.Take(3).Select(b => b.OneTimePrekey.Id));
        Assert.Equal([2001u, 2002u, 2003u], bundles.Take(3).Select(b => b.KyberPrekey.Id));
        // Past the budget: served, but without one-time keys (signed prekey and last-resort ML-KEM key).
        Assert.Null(bundles[3].OneTimePrekey);
        Assert.Equal(PreKeyUploads.LastResortId, bundles[3].KyberPrekey.Id);
        Assert.NotNull(bundles[3].SignedPrekey);

        // The budget refills at its rate; the keys not handed out are still there.
        clock.Advance(TimeSpan.FromHours(1));
        await using var again = await RawClient.ConnectAsync(fx.Server, u["reader0"]);
        Assert.Equal(4u, Assert.Single((await again.RequestAsync(FetchBob())).PrekeyBundles.Bundles).OneTimePrekey.Id);
    }

    [Fact]
    public async Task Fetches_of_one_device_by_one_device_are_limited_per_pair()
    {
        var (fx, u) = await StartAsync(l => l.PreKeyFetchesPerDevicePairPerHour = 2, null, null, "alice", "bob", "carol");
        await using var _ = fx;
        foreach (var owner in new[] { "bob", "carol" })
        {
            await using var c = await RawClient.ConnectAsync(fx.Server, u[owner]);
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await c.RequestAsync(new ClientFrame { UploadPrekeys = PreKeyUploads.Upload(10, 0) })).BodyCase);
        }
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
        Assert.Single((await a.RequestAsync(FetchBob())).PrekeyBundles.Bundles);
        Assert.Single((await a.RequestAsync(FetchBob())).PrekeyBundles.Bundles);
        var refused = await a.RequestAsync(FetchBob());
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.True(refused.Error.RetryAfterMs > 0);
        Assert.Single((await a.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "carol" } })).PrekeyBundles.Bundles);
    }

    [Fact]
    public async Task Failed_Hellos_from_one_address_back_off_and_are_logged_as_one_summary_line()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new LogRecorder();
        var (fx, u) = await StartAsync(l => (l.FailedHellosPerAddress, l.FailedHellosPerAccount) = (3, 1000), clock,
            s => s.AddSingleton<ILoggerProvider>(log), "alice", "bob");
        await using var _ = fx;
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(ErrorCode.Unauthorized, await HelloErrorAsync(fx, RawClient.Hello(u["alice"], password: "wrong")));
        }
        // Backing off: refused before the password is checked, even a right one, for any account from here.
        var (code, retryAfter) = await HelloRefusalAsync(fx, RawClient.Hello(u["bob"]));
        Assert.Equal(ErrorCode.RateLimited, code);
        Assert.InRange(retryAfter, 1u, 1000u);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("Hello", StringComparison.Ordinal));

        clock.Advance(TimeSpan.FromSeconds(60));
        await Wait.UntilAsync(() => log.Lines.Any(l => l.Message.Contains("Hello", StringComparison.Ordinal)));
        var summary = Assert.Single(log.Lines, l => l.Message.Contains("Hello", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.Contains("4 Hellos failed", summary.Message, StringComparison.Ordinal);
        Assert.Contains("1 were refused", summary.Message, StringComparison.Ordinal);
        await using var b = await RawClient.ConnectAsync(fx.Server, u["bob"]); // the back-off (1 s) is over
    }

    [Fact]
    public async Task Failed_Hellos_for_one_account_back_off_that_account_only()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (fx, u) = await StartAsync(l => (l.FailedHellosPerAddress, l.FailedHellosPerAccount, l.HelloBackoffInitialSeconds) = (1000, 2, 10), clock, null, "alice", "bob");
        await using var _ = fx;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ErrorCode.Unauthorized, await HelloErrorAsync(fx, RawClient.Hello(u["alice"], password: "wrong")));
        }
        Assert.Equal(ErrorCode.RateLimited, (await HelloRefusalAsync(fx, RawClient.Hello(u["alice"]))).Code);
        await using (var b = await RawClient.ConnectAsync(fx.Server, u["bob"]))
        {
        }
        clock.Advance(TimeSpan.FromSeconds(10));
        await using var a = await RawClient.ConnectAsync(fx.Server, u["alice"]);
    }

    [Theory]
    [InlineData("10.0.0.1:443", "10.0.0.1")]
    [InlineData("[::ffff:10.0.0.1]:443", "10.0.0.1")]
    [InlineData("[2001:db8:1:2:aaaa::1]:5000", "2001:db8:1:2::/64")]
    [InlineData("[2001:db8:1:2:bbbb:cccc:dddd:9]:6000", "2001:db8:1:2::/64")]
    [InlineData("[2001:db8:1:3::1]:1", "2001:db8:1:3::/64")]
    [InlineData("unix:/run/parley.sock", "unix:/run/parley.sock")]
    public void Failed_Hellos_count_per_IPv4_address_and_per_IPv6_64_bit_prefix(string remote, string counted) =>
        Assert.Equal(counted, Accounts.HelloThrottle.AddressOf(remote));

    private static async Task<ErrorCode> HelloErrorAsync(ServerFixture fx, Hello hello) => (await HelloRefusalAsync(fx, hello)).Code;

    private static async Task<(ErrorCode Code, uint RetryAfterMs)> HelloRefusalAsync(ServerFixture fx, Hello hello)
    {
        await using var c = await RawClient.OpenAsync(fx.Server);
        await c.SendAsync(new ClientFrame { Hello = hello });
        var (status, frames) = await c.ReadUntilClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        var error = Assert.Single(frames).Error;
        return (error.Code, error.RetryAfterMs);
    }

    private static ClientFrame Read(string peer, params byte[][] ids)
    {
        var read = new ReadReceipt { Peer = peer };
        read.MessageIds.AddRange(ids.Select(ByteString.CopyFrom));
        return new ClientFrame { Read = read };
    }

    private static ClientFrame TypingTo(string peer) => new() { Typing = new Typing { Peer = peer, Typing_ = true } };

    private static ClientFrame Visibility(PresenceVisibility v) => new() { PresenceVisibility = new SetPresenceVisibility { Visibility = v } };

    private static ClientFrame FetchBob() => new() { GetBundles = new GetPreKeyBundles { User = "bob" } };

    private static async Task<List<PresenceUpdate>> WatchAsync(RawClient c, string user) =>
        [.. (await c.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { user } } })).PresenceSnapshot.Users];
}
