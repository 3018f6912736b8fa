using System.Buffers.Text;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Gateway;
using Parley.Server.Push;

namespace Parley.Server.Tests.Push;

public sealed class PushTests
{
    [Fact]
    public async Task Offline_device_gets_exactly_one_push_for_a_burst_of_50_messages()
    {
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync();
        using var counters = new PushCounters(fx.Server);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        for (int i = 0; i < 50; i++)
        {
            await SendAsync(a, "bob");
        }

        await Wait.UntilAsync(() => Scheduler(fx).Pending == 0 && push.PushesFor(phone).Count > 0);
        Assert.Single(push.PushesFor(phone));
        Assert.Equal(1, push.Requests(phone.Id));
        Assert.Empty(push.Problems);
        Assert.Equal(1, counters.Sent);
        Assert.Equal(0, counters.Failed);
    }

    [Fact]
    public async Task Online_device_gets_no_push_and_is_pushed_once_it_goes_offline()
    {
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(phone.SetFrame())).BodyCase);
            for (int i = 0; i < 5; i++)
            {
                await SendAsync(a, "bob");
                await b.ReceiveEnvelopeAsync();
            }
            Assert.Equal(0, Scheduler(fx).Pending);
            Assert.Equal(0, push.Requests(phone.Id));
        }
        await Wait.UntilAsync(() => Service<ConnectionRegistry>(fx).Find(KeyOf(fx, "bob")) is null);

        await SendAsync(a, "bob");
        await Wait.UntilAsync(() => push.PushesFor(phone).Count == 1);
    }

    [Fact]
    public async Task Device_still_offline_is_pushed_again_after_the_interval_then_less_often_until_it_connects()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync(o => o.Push.RepushMinutes = 10, time);
        var scheduler = Scheduler(fx);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            await SendAsync(a, "bob");
        }
        await Wait.UntilAsync(() => scheduler.Pending == 0 && push.PushesFor(phone).Count == 1);

        // The re-push check runs on the server's clock, inside Advance; what it queues is then sent.
        await AdvanceAsync(time, scheduler, TimeSpan.FromMinutes(9));
        Assert.Single(push.PushesFor(phone));
        await AdvanceAsync(time, scheduler, TimeSpan.FromMinutes(1));
        Assert.Equal(2, push.PushesFor(phone).Count);

        // Back-off: the next one comes 20 minutes later, not 10.
        await AdvanceAsync(time, scheduler, TimeSpan.FromMinutes(19));
        Assert.Equal(2, push.PushesFor(phone).Count);
        await AdvanceAsync(time, scheduler, TimeSpan.FromMinutes(1));
        Assert.Equal(3, push.PushesFor(phone).Count);

        // Once the device connects, the outstanding push is settled: no more re-pushes.
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            await b.ReceiveEnvelopeAsync();
        }
        await AdvanceAsync(time, scheduler, TimeSpan.FromHours(3));
        Assert.Equal(3, push.PushesFor(phone).Count);
        Assert.Empty(push.Problems);
    }

    [Fact]
    public async Task Push_service_answering_410_deletes_the_subscription()
    {
        await using var push = await LocalPushService.StartAsync();
        push.Answer = (_, _) => Task.FromResult<(int, int?)>((410, null));
        await using var fx = await StartServerAsync();
        using var counters = new PushCounters(fx.Server);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());
        Assert.NotNull(Service<IPushTargetStore>(fx).Get(KeyOf(fx, "bob")));

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await SendAsync(a, "bob");

        await Wait.UntilAsync(() => Scheduler(fx).Pending == 0 && push.Requests(phone.Id) == 1);
        Assert.Null(Service<IPushTargetStore>(fx).Get(KeyOf(fx, "bob")));
        Assert.Equal(1, counters.Failed);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        var status = await b.RequestAsync(new ClientFrame { GetPush = new GetPushSubscription() });
        Assert.Equal(PushSubscriptionStatus.KindOneofCase.None, status.PushSubscription.KindCase);
    }

    [Fact]
    public async Task Push_service_answering_429_is_retried_after_its_Retry_After()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var push = await LocalPushService.StartAsync();
        push.Answer = (_, n) => Task.FromResult<(int, int?)>(n == 1 ? (429, 120) : (201, null));
        await using var fx = await StartServerAsync(time: time);
        using var counters = new PushCounters(fx.Server);
        var scheduler = Scheduler(fx);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());
        var key = KeyOf(fx, "bob");
        var start = time.GetUtcNow();

        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            await SendAsync(a, "bob");
        }
        await Wait.UntilAsync(() => scheduler.RetryDue(key) is not null);
        Assert.Equal(start + TimeSpan.FromSeconds(120), scheduler.RetryDue(key));
        Assert.Equal(1, push.Requests(phone.Id));

        time.Advance(TimeSpan.FromSeconds(119));
        Assert.NotNull(scheduler.RetryDue(key)); // still waiting: its timer has not fired
        Assert.Equal(1, push.Requests(phone.Id));

        time.Advance(TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(() => scheduler.Pending == 0 && push.PushesFor(phone).Count == 1);
        Assert.Equal(2, push.Requests(phone.Id));
        Assert.Equal(1, counters.Sent);
        Assert.Equal(0, counters.Failed);
    }

    [Fact]
    public async Task Push_service_that_hangs_does_not_delay_SENT_or_delivery_for_anyone()
    {
        await using var push = await LocalPushService.StartAsync();
        var release = new TaskCompletionSource<(int, int?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bobsPhone = push.NewSubscriber();
        var davesPhone = push.NewSubscriber();
        push.Answer = (id, _) => id == bobsPhone.Id ? release.Task : Task.FromResult<(int, int?)>((201, null));
        try
        {
            await using var fx = await StartServerAsync();
            var alice = await RawClient.RegisterAsync(fx.Server, "alice");
            var bob = await RawClient.RegisterAsync(fx.Server, "bob");
            var carol = await RawClient.RegisterAsync(fx.Server, "carol");
            var dave = await RawClient.RegisterAsync(fx.Server, "dave");
            await SubscribeOfflineAsync(fx, bob, bobsPhone.SetFrame());
            await SubscribeOfflineAsync(fx, dave, davesPhone.SetFrame());
            await using var a = await RawClient.ConnectAsync(fx.Server, alice);
            await using var c = await RawClient.ConnectAsync(fx.Server, carol);

            await SendAsync(a, "bob");
            await Wait.UntilAsync(() => push.Hanging == 1);

            // While bob's push service holds its request open: SENT for more messages to bob,
            // live delivery to carol, SENT from carol, and dave's push on the same server.
            for (int i = 0; i < 10; i++)
            {
                await SendAsync(a, "bob");
            }
            await SendAsync(a, "carol");
            Assert.Equal(EnvelopeKind.Message, (await c.ReceiveEnvelopeAsync()).Envelope.Kind);
            await SendAsync(c, "alice");
            await SendAsync(a, "dave");
            await Wait.UntilAsync(() => push.PushesFor(davesPhone).Count == 1);

            Assert.Equal(1, push.Hanging); // still blocked: everything above happened meanwhile
            Assert.Equal(1, push.Requests(bobsPhone.Id));
        }
        finally
        {
            release.TrySetResult((201, null));
        }
    }

    [Fact]
    public async Task Decrypted_push_says_only_wake_no_sender_no_message_id_no_payload()
    {
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());
        var id = MessageId.New();
        const string Payload = "meet me at the old mill at nine";

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", messageId: id, text: Payload))).BodyCase);
        await Wait.UntilAsync(() => push.PushesFor(phone).Count == 1);

        var received = Assert.Single(push.PushesFor(phone));
        var text = Encoding.UTF8.GetString(received.Plaintext);
        Assert.Equal(PushDelivery.WakeBody, text);
        foreach (var secret in new[] { "alice", "bob", Payload, Convert.ToHexString(id), Convert.ToHexStringLower(id), Convert.ToBase64String(id), Base64Url.EncodeToString(id), MessageId.ToText(id) })
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal(-1, received.Plaintext.AsSpan().IndexOf(id));
        Assert.Equal("high", received.Urgency);
        Assert.Equal(PushDelivery.Topic, received.Topic);
        Assert.Equal((int)TimeSpan.FromDays(new LimitOptions().EnvelopeTtlDays).TotalSeconds, received.Ttl);

        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        var vapid = await http.GetFromJsonAsync<JsonElement>(PushModule.VapidPath);
        Assert.Equal(Base64Url.DecodeFromChars(vapid.GetProperty("public_key").GetString()), received.VapidKey);
    }

    [Fact]
    public async Task Gateway_push_carries_the_token_and_nothing_else_identifying()
    {
        await using var push = await LocalPushService.StartAsync();
        push.Answer = (_, _) => Task.FromResult<(int, int?)>((200, null));
        await using var fx = await StartServerAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        const string Token = "fcm:dGhlLXRva2VuLW9mLWJvYnMtcGhvbmU";
        await SubscribeOfflineAsync(fx, bob, new ClientFrame
        {
            SetPush = new SetPushSubscription { Gateway = new GatewayPushSubscription { Url = push.GatewayUri.ToString(), Token = Token } },
        });
        var id = MessageId.New();

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", messageId: id, text: "payload bytes"))).BodyCase);
        await Wait.UntilAsync(() => !push.GatewayBodies.IsEmpty);

        var body = Assert.Single(push.GatewayBodies);
        using var json = JsonDocument.Parse(body);
        var notification = Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal("notification", notification.Name);
        Assert.Equal(["devices", "prio", "ttl"], notification.Value.EnumerateObject().Select(p => p.Name).Order());
        var device = Assert.Single(notification.Value.GetProperty("devices").EnumerateArray());
        Assert.Equal(Token, Assert.Single(device.EnumerateObject(), p => p.Name == "pushkey").Value.GetString());
        Assert.Single(device.EnumerateObject());
        Assert.Equal("high", notification.Value.GetProperty("prio").GetString());
        foreach (var secret in new[] { "alice", "bob", "payload", MessageId.ToText(id), Convert.ToHexString(id), Convert.ToBase64String(id) })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
        await Wait.UntilAsync(() => Scheduler(fx).Pending == 0);
        Assert.NotNull(Service<IPushTargetStore>(fx).Get(KeyOf(fx, "bob")));
    }

    [Fact]
    public async Task Receipts_alone_do_not_push()
    {
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        var id = MessageId.New();
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(phone.SetFrame())).BodyCase);
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await b.RequestAsync(Wire.Send("alice", messageId: id))).BodyCase);
        }
        await Wait.UntilAsync(() => Service<ConnectionRegistry>(fx).Find(KeyOf(fx, "bob")) is null);

        // Alice's ack queues DELIVERED for bob, her read queues READ: neither wakes bob's phone.
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var envelope = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(1u, (await a.RequestAsync(Wire.Ack(envelope.Seq))).AckResult.Acked);
        var read = new ReadReceipt { Peer = "bob" };
        read.MessageIds.Add(ByteString.CopyFrom(id));
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(new ClientFrame { Read = read })).BodyCase);
        Assert.Equal(0, Scheduler(fx).Pending);
        Assert.Equal(0, push.Requests(phone.Id));

        await SendAsync(a, "bob");
        await Wait.UntilAsync(() => push.PushesFor(phone).Count == 1);
    }

    [Fact]
    public async Task Subscriptions_are_set_replaced_read_and_removed_and_bad_ones_are_refused_with_clear_codes()
    {
        await using var fx = await StartServerAsync();
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        var p256dh = PublicKey();
        var auth = new byte[16];

        ClientFrame Web(string endpoint, byte[]? key = null, byte[]? secret = null) => new()
        {
            SetPush = new SetPushSubscription { Webpush = new WebPushSubscription { Endpoint = endpoint, P256Dh = ByteString.CopyFrom(key ?? p256dh), Auth = ByteString.CopyFrom(secret ?? auth) } },
        };
        ClientFrame Gateway(string url, string token) => new()
        {
            SetPush = new SetPushSubscription { Gateway = new GatewayPushSubscription { Url = url, Token = token } },
        };

        var refused = new (ClientFrame Frame, ErrorCode Code)[]
        {
            (Web("http://push.example.com/x"), ErrorCode.BadRequest),          // not https, not loopback
            (Web("https://user:pw@push.example.com/x"), ErrorCode.BadRequest), // credentials in the URL
            (Web("/relative"), ErrorCode.BadRequest),
            (Web("https://push.example.com/" + new string('a', WireLimits.MaxPushUrlLength)), ErrorCode.TooLarge),
            (Web("https://push.example.com/x", key: p256dh[..64]), ErrorCode.BadRequest),
            (Web("https://push.example.com/x", key: [0x04, .. Enumerable.Repeat((byte)1, 64)]), ErrorCode.BadRequest), // off the curve
            (Web("https://push.example.com/x", secret: new byte[15]), ErrorCode.BadRequest),
            (Gateway("https://gw.example.com/push", ""), ErrorCode.BadRequest),
            (Gateway("https://gw.example.com/push", new string('t', WireLimits.MaxPushTokenBytes + 1)), ErrorCode.TooLarge),
            (new ClientFrame { SetPush = new SetPushSubscription() }, ErrorCode.BadRequest),
            // Addresses outside the public internet (loopback is allowed here: AllowLoopbackHttp).
            (Web("https://10.1.2.3/x"), ErrorCode.BadRequest),
            (Web("https://169.254.169.254/latest/meta-data"), ErrorCode.BadRequest),
            (Web("https://[fd00::1]/x"), ErrorCode.BadRequest),
            (Web("https://[::ffff:192.168.0.1]/x"), ErrorCode.BadRequest),
            (Gateway("https://172.16.0.5/push", "t"), ErrorCode.BadRequest),
        };
        foreach (var (frame, code) in refused)
        {
            var answer = await b.RequestAsync(frame);
            Assert.Equal(code, answer.Error?.Code);
            Assert.False(string.IsNullOrEmpty(answer.Error!.Message));
        }
        Assert.Equal(PushSubscriptionStatus.KindOneofCase.None, (await GetAsync(b)).KindCase);

        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Web("https://push.example.com/x"))).BodyCase);
        var web = await GetAsync(b);
        Assert.Equal("https://push.example.com/x", web.Webpush.Endpoint);
        Assert.Equal(p256dh, web.Webpush.P256Dh.ToByteArray());
        Assert.Equal(65, web.VapidPublicKey.Length);

        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Gateway("https://gw.example.com/push", "tok"))).BodyCase);
        var gateway = await GetAsync(b);
        Assert.Equal(PushSubscriptionStatus.KindOneofCase.Gateway, gateway.KindCase);
        Assert.Equal("tok", gateway.Gateway.Token);

        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { RemovePush = new RemovePushSubscription() })).BodyCase);
        Assert.Equal(PushSubscriptionStatus.KindOneofCase.None, (await GetAsync(b)).KindCase);
    }

    [Fact]
    public async Task Loopback_and_private_push_urls_are_refused_unless_a_setting_allows_them()
    {
        static ClientFrame Gateway(string url) => new()
        {
            SetPush = new SetPushSubscription { Gateway = new GatewayPushSubscription { Url = url, Token = "t" } },
        };
        await using (var fx = await ServerFixture.StartAsync())
        {
            var bob = await RawClient.RegisterAsync(fx.Server, "bob");
            await using var b = await RawClient.ConnectAsync(fx.Server, bob);
            foreach (var url in new[] { "http://127.0.0.1:9/push", "https://127.0.0.1:9/push", "https://localhost/push", "https://[::1]/push", "https://10.1.2.3/push" })
            {
                var answer = await b.RequestAsync(Gateway(url));
                Assert.True(answer.Error?.Code == ErrorCode.BadRequest, url);
            }
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Gateway("https://push.example.com/push"))).BodyCase);
        }
        await using (var fx = await ServerFixture.StartAsync(o => o.Push.AllowPrivateNetworks = true))
        {
            var bob = await RawClient.RegisterAsync(fx.Server, "bob");
            await using var b = await RawClient.ConnectAsync(fx.Server, bob);
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Gateway("https://10.1.2.3/push"))).BodyCase);
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(Gateway("https://localhost/push"))).BodyCase);
            Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(Gateway("http://10.1.2.3/push"))).Error?.Code); // still https
        }
    }

    [Fact]
    public async Task A_push_host_that_no_longer_has_an_allowed_address_is_not_connected_to_and_the_push_fails()
    {
        await using var push = await LocalPushService.StartAsync();
        await using var fx = await StartServerAsync();
        using var counters = new PushCounters(fx.Server);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var phone = push.NewSubscriber();
        await SubscribeOfflineAsync(fx, bob, phone.SetFrame());
        // What a host name whose DNS now points into the operator's network looks like to the
        // server: the subscription was accepted, its address is no longer allowed. The check runs
        // on every connection, after DNS, so nothing reaches it.
        Service<ParleyOptions>(fx).Push.AllowLoopbackHttp = false;

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await SendAsync(a, "bob");

        await Wait.UntilAsync(() => Scheduler(fx).Pending == 0 && counters.Failed == 1);
        Assert.Equal(0, push.Requests(phone.Id));
        Assert.Equal(0, counters.Sent);
        Assert.NotNull(Service<IPushTargetStore>(fx).Get(KeyOf(fx, "bob"))); // kept: given up, not gone
    }

    [Fact]
    public async Task VAPID_key_is_made_at_first_start_kept_owner_only_and_the_same_after_a_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        var before = await ServerFixture.StartAsync(dataDir: dataDir);
        var first = await VapidKeyAsync(before);
        await before.Server.DisposeAsync(); // stops the server only: the fixture would delete the data folder
        Assert.Equal(65, Base64Url.DecodeFromChars(first).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDir, VapidKeys.FileName)));
        }

        await using var after = await ServerFixture.StartAsync(dataDir: dataDir);
        Assert.Equal(first, await VapidKeyAsync(after));
    }

    [Fact]
    public async Task Device_removed_from_its_account_loses_its_subscription()
    {
        await using var fx = await StartServerAsync();
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var second = await RawClient.LinkAsync(fx.Server, bob);
        var frame = new ClientFrame
        {
            SetPush = new SetPushSubscription { Gateway = new GatewayPushSubscription { Url = "https://gw.example.com/push", Token = "t" } },
        };
        await SubscribeOfflineAsync(fx, bob, frame);
        await SubscribeOfflineAsync(fx, second, frame);
        var store = Service<IPushTargetStore>(fx);
        var account = Service<AccountDirectory>(fx).Find("bob")!.Id;

        // However a device row goes (unlinking, account deletion), its subscription goes with it.
        using (var db = new SqliteConnection($"Data Source={Path.Combine(fx.DataDir, "parley.db")}"))
        {
            db.Open();
            using var delete = db.CreateCommand();
            delete.CommandText = "DELETE FROM devices WHERE account = $a AND device = $d";
            delete.Parameters.AddWithValue("$a", account);
            delete.Parameters.AddWithValue("$d", second.DeviceId);
            Assert.Equal(1, delete.ExecuteNonQuery());
        }
        Assert.Null(store.Get(new DeviceAddress(account, second.DeviceId).Key));
        Assert.NotNull(store.Get(new DeviceAddress(account, bob.DeviceId).Key));
    }

    [Fact]
    public async Task Full_push_queue_drops_and_counts_pushes_without_touching_delivery()
    {
        await using var push = await LocalPushService.StartAsync();
        var release = new TaskCompletionSource<(int, int?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        push.Answer = (_, _) => release.Task;
        try
        {
            await using var fx = await StartServerAsync(o =>
            {
                o.Push.QueueCapacity = 1;
                o.Push.MaxConcurrentRequests = 1;
            });
            using var counters = new PushCounters(fx.Server);
            var alice = await RawClient.RegisterAsync(fx.Server, "alice");
            await using var a = await RawClient.ConnectAsync(fx.Server, alice);
            foreach (var name in new[] { "bob", "dave", "erin" })
            {
                await SubscribeOfflineAsync(fx, await RawClient.RegisterAsync(fx.Server, name), push.NewSubscriber().SetFrame());
            }

            await SendAsync(a, "bob");                                // in flight, held by the push service
            await Wait.UntilAsync(() => push.Hanging == 1);
            await SendAsync(a, "dave");                               // waits in the queue
            await SendAsync(a, "erin");                               // no room: dropped
            Assert.Equal(1, counters.Dropped);
            Assert.Equal(2, Scheduler(fx).Pending);
        }
        finally
        {
            release.TrySetResult((201, null));
        }
    }

    private static Task<ServerFixture> StartServerAsync(Action<ParleyOptions>? configure = null, TimeProvider? time = null) =>
        ServerFixture.StartAsync(o =>
        {
            o.Push.AllowLoopbackHttp = true; // the local push service is http on 127.0.0.1
            configure?.Invoke(o);
        }, time);

    private static T Service<T>(ServerFixture fx) where T : notnull => fx.Server.App.Services.GetRequiredService<T>();

    private static PushScheduler Scheduler(ServerFixture fx) => Service<PushScheduler>(fx);

    private static long KeyOf(ServerFixture fx, string user, uint device = 1) =>
        new DeviceAddress(Service<AccountDirectory>(fx).Find(user)!.Id, device).Key;

    /// <summary>Connects the device, sets its subscription and leaves; returns once the server has seen it go.</summary>
    private static async Task SubscribeOfflineAsync(ServerFixture fx, DeviceCredentials device, ClientFrame set)
    {
        await using (var c = await RawClient.ConnectAsync(fx.Server, device))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await c.RequestAsync(set)).BodyCase);
        }
        var key = KeyOf(fx, device.User, device.DeviceId);
        await Wait.UntilAsync(() => Service<ConnectionRegistry>(fx).Find(key) is null);
    }

    private static async Task SendAsync(RawClient from, string to) =>
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await from.RequestAsync(Wire.Send(to))).BodyCase);

    /// <summary>Moves the server's clock (the re-push check runs inside), then waits for what it queued to be sent.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, PushScheduler scheduler, TimeSpan by)
    {
        int ticks = scheduler.Ticks;
        time.Advance(by);
        Assert.True(scheduler.Ticks > ticks);
        await Wait.UntilAsync(() => scheduler.Pending == 0);
    }

    private static async Task<PushSubscriptionStatus> GetAsync(RawClient client) =>
        (await client.RequestAsync(new ClientFrame { GetPush = new GetPushSubscription() })).PushSubscription;

    private static async Task<string> VapidKeyAsync(ServerFixture fx)
    {
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        var body = await http.GetFromJsonAsync<JsonElement>(PushModule.VapidPath);
        return body.GetProperty("public_key").GetString()!;
    }

    private static byte[] PublicKey()
    {
        using var key = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var q = key.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }
}
