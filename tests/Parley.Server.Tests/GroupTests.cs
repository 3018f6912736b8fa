using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>Groups on the wire: roles, NOT_A_MEMBER, fan-out of one body, change notices, group READs, durability.</summary>
public sealed class GroupTests
{
    [Fact]
    public async Task Only_admins_add_remove_promote_and_demote_and_every_member_device_gets_each_change_in_order()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await using var c = await Connect(fx, "carol");
        var group = await CreateAsync(a, "bob");
        Assert.Equal([("alice", GroupRole.GroupAdmin), ("bob", GroupRole.GroupMember)], group.Members.Select(m => (m.User, m.Role)));

        var refused = await b.RequestAsync(Change(group, GroupChangeKind.GroupAdd, "carol"));
        Assert.Equal(ErrorCode.Forbidden, refused.Error.Code);
        Assert.Equal(ErrorCode.Forbidden, (await b.RequestAsync(Change(group, GroupChangeKind.GroupRemove, "alice"))).Error.Code);
        Assert.Equal(ErrorCode.Forbidden, (await b.RequestAsync(Change(group, GroupChangeKind.GroupPromote, "bob"))).Error.Code);

        Assert.Equal(3, (await a.RequestAsync(Change(group, GroupChangeKind.GroupAdd, "carol"))).GroupState.Members.Count);
        var promoted = (await a.RequestAsync(Change(group, GroupChangeKind.GroupPromote, "bob"))).GroupState;
        Assert.Equal(GroupRole.GroupAdmin, promoted.Members.Single(m => m.User == "bob").Role);
        var removed = (await b.RequestAsync(Change(group, GroupChangeKind.GroupRemove, "carol"))).GroupState;
        Assert.DoesNotContain(removed.Members, m => m.User == "carol");
        var demoted = (await b.RequestAsync(Change(group, GroupChangeKind.GroupDemote, "alice"))).GroupState;
        Assert.Equal(GroupRole.GroupMember, demoted.Members.Single(m => m.User == "alice").Role);
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(Change(group, GroupChangeKind.GroupDemote, "bob"))).Error.Code);
        Assert.Equal(5ul, demoted.Version);

        // bob saw every change, in order, as queued GROUP_CHANGE envelopes.
        var kinds = new List<GroupChangeKind>();
        for (ulong version = 1; version <= 5; version++)
        {
            var notice = (await b.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal(EnvelopeKind.GroupChange, notice.Kind);
            Assert.Equal(group.GroupId, notice.GroupId);
            Assert.Equal(version, notice.GroupChange.State.Version);
            kinds.Add(notice.GroupChange.Kind);
        }
        Assert.Equal([GroupChangeKind.GroupCreate, GroupChangeKind.GroupAdd, GroupChangeKind.GroupPromote, GroupChangeKind.GroupRemove, GroupChangeKind.GroupDemote], kinds);

        // carol got the changes up to her removal (so she knows she is out), then nothing more.
        var carolSaw = new List<GroupChangeKind>();
        for (int i = 0; i < 3; i++)
        {
            carolSaw.Add((await c.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);
        }
        Assert.Equal([GroupChangeKind.GroupAdd, GroupChangeKind.GroupPromote, GroupChangeKind.GroupRemove], carolSaw);
        Assert.Equal(ErrorCode.NotAMember, (await c.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).Error.Code);
    }

    [Fact]
    public async Task When_the_last_admin_leaves_the_longest_standing_member_is_promoted()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await using var c = await Connect(fx, "carol");
        var group = await CreateAsync(a, "bob");
        await a.RequestAsync(Change(group, GroupChangeKind.GroupAdd, "carol"));

        var left = await a.RequestAsync(Change(group, GroupChangeKind.GroupLeave, ""));
        Assert.Equal([("bob", GroupRole.GroupAdmin), ("carol", GroupRole.GroupMember)], left.GroupState.Members.Select(m => (m.User, m.Role)));
        Assert.Empty((await a.RequestAsync(new ClientFrame { ListGroups = new ListGroups() })).GroupList.Groups);
        var groups = (await c.RequestAsync(new ClientFrame { ListGroups = new ListGroups() })).GroupList.Groups;
        Assert.Equal(group.GroupId, Assert.Single(groups).GroupId);

        await c.ReceiveEnvelopeAsync(); // the add
        var notice = (await c.ReceiveEnvelopeAsync()).Envelope.GroupChange;
        Assert.Equal(GroupChangeKind.GroupLeave, notice.Kind);
        Assert.Equal("alice", notice.Actor);
        Assert.Equal("bob", Assert.Single(notice.Promoted));
    }

    [Fact]
    public async Task A_stranger_gets_NOT_A_MEMBER_for_every_group_operation_and_send()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var m = await Connect(fx, "mallory");
        var group = await CreateAsync(a);
        var sent = await a.RequestAsync(SendGroup(group, []));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, sent.BodyCase);

        var unknown = new GroupState { GroupId = ByteString.CopyFrom(new byte[16]) };
        foreach (var target in new[] { group, unknown })
        {
            Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = target.GroupId } })).Error.Code);
            Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(Change(target, GroupChangeKind.GroupAdd, "mallory"))).Error.Code);
            Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(Change(target, GroupChangeKind.GroupLeave, ""))).Error.Code);
            Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(SendGroup(target, [new DeviceList { User = "alice", DeviceIds = { 1 } }]))).Error.Code);
            var read = new ReadReceipt { Peer = "alice", GroupId = target.GroupId };
            read.MessageIds.Add(sent.SendResult.MessageId);
            Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(new ClientFrame { Read = read })).Error.Code);
        }
        Assert.Empty((await m.RequestAsync(new ClientFrame { ListGroups = new ListGroups() })).GroupList.Groups);
    }

    [Fact]
    public async Task A_group_message_reaches_every_device_of_every_member_and_the_senders_other_devices_with_one_stored_body()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var alice2 = await RawClient.LinkAsync(fx.Server, alice);
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var bob2 = await RawClient.LinkAsync(fx.Server, bob);
        var carol = await RawClient.RegisterAsync(fx.Server, "carol");
        await using var a1 = await RawClient.ConnectAsync(fx.Server, alice);
        var group = await CreateAsync(a1, "bob", "carol");

        // A device set missing bob's second device is stale: the answer lists every member's devices.
        var stale = await a1.RequestAsync(SendGroup(group, [Devices("alice", 2), Devices("bob", 1), Devices("carol", 1)]));
        Assert.Equal(ErrorCode.StaleDevices, stale.Error.Code);
        Assert.Equal(["alice:2", "bob:1,2", "carol:1"], stale.Error.Devices.Select(d => $"{d.User}:{string.Join(',', d.DeviceIds)}").Order());

        var id = MessageId.New();
        var send = SendGroup(group, [Devices("alice", 2), Devices("bob", 1, 2), Devices("carol", 1)], id, "to everyone");
        var sent = await a1.RequestAsync(send);
        Assert.False(sent.SendResult.Duplicate);
        send.RequestId = 0;
        Assert.True((await a1.RequestAsync(send)).SendResult.Duplicate);

        // One body for the four recipient devices (the create notice is a second shared body), with
        // their device set beside it and no queue row per device.
        using (var db = new SqliteConnection($"Data Source={Path.Combine(fx.DataDir, "parley.db")};Pooling=False"))
        {
            db.Open();
            using var command = db.CreateCommand();
            command.CommandText = "SELECT COUNT(*), MAX(length(recipients)) FROM envelopes WHERE device = -2";
            using (var reader = command.ExecuteReader())
            {
                Assert.True(reader.Read());
                Assert.Equal(2L, reader.GetInt64(0));
                Assert.InRange(reader.GetInt64(1), 4, 4 * 3);
            }
            command.CommandText = "SELECT COUNT(*) FROM queue";
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }

        ulong? seq = null;
        foreach (var credentials in new[] { alice2, bob, bob2, carol })
        {
            await using var device = await RawClient.ConnectAsync(fx.Server, credentials);
            Assert.Equal(EnvelopeKind.GroupChange, (await device.ReceiveEnvelopeAsync()).Envelope.Kind);
            var envelope = (await device.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal(EnvelopeKind.Message, envelope.Kind);
            Assert.Equal(group.GroupId, envelope.GroupId);
            Assert.Equal("alice", envelope.Sender);
            Assert.Equal(1u, envelope.SenderDevice);
            Assert.Equal("to everyone", envelope.Payload.ToStringUtf8());
            Assert.Equal(id, envelope.MessageId.ToByteArray());
            Assert.Equal(seq ?? envelope.Seq, envelope.Seq);
            seq = envelope.Seq;
            await device.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);
        }
    }

    [Fact]
    public async Task A_group_message_encoded_once_reaches_every_connected_device_live_and_each_device_acks_it_for_itself()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var bob2 = await RawClient.LinkAsync(fx.Server, bob);
        var carol = await RawClient.RegisterAsync(fx.Server, "carol");
        var dave = await RawClient.RegisterAsync(fx.Server, "dave");
        var devices = new List<RawClient>();
        try
        {
            foreach (var credentials in new[] { bob, bob2, carol, dave })
            {
                var device = await RawClient.ConnectAsync(fx.Server, credentials);
                devices.Add(device);
                await device.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);
            }
            var group = await CreateAsync(a, "bob", "carol", "dave");
            await a.ReceiveEnvelopeAsync(); // alice's own create notice
            foreach (var device in devices)
            {
                var notice = (await device.ReceiveEnvelopeAsync()).Envelope;
                Assert.Equal(1u, (await device.RequestAsync(Wire.Ack(notice.Seq))).AckResult.Acked);
            }

            // Sent while every device is connected: each gets it live, from the one encoding, with the same seq.
            var id = MessageId.New();
            Assert.False((await a.RequestAsync(SendGroup(group, [Devices("bob", 1, 2), Devices("carol", 1), Devices("dave", 1)], id, "live"))).SendResult.Duplicate);
            var seqs = new List<ulong>();
            foreach (var device in devices)
            {
                var envelope = (await device.ReceiveEnvelopeAsync()).Envelope;
                Assert.Equal(id, envelope.MessageId.ToByteArray());
                Assert.Equal("live", envelope.Payload.ToStringUtf8());
                Assert.Equal(group.GroupId, envelope.GroupId);
                seqs.Add(envelope.Seq);
                Assert.Equal(1u, (await device.RequestAsync(Wire.Ack(envelope.Seq))).AckResult.Acked);
                // The seq is this device's to ack once: a second ack of it is unknown here.
                Assert.Equal(0u, (await device.RequestAsync(Wire.Ack(envelope.Seq))).AckResult.Acked);
            }
            Assert.Single(seqs.Distinct());

            // Every member device's ack reached alice as a DELIVERED naming that device.
            var named = new List<string>();
            while (named.Count < 4)
            {
                var receipt = (await a.ReceiveEnvelopeAsync()).Envelope;
                Assert.Equal(EnvelopeKind.DeliveryReceipt, receipt.Kind);
                Assert.Equal(id, Assert.Single(receipt.ReceiptIds).ToByteArray());
                named.AddRange(receipt.Receipts.Count > 0 ? receipt.Receipts.Select(r => $"{r.Reader}:{r.ReaderDevice}") : [$"{receipt.Sender}:{receipt.SenderDevice}"]);
            }
            Assert.Equal(["bob:1", "bob:2", "carol:1", "dave:1"], named.Order());

            // Acked for good: a device that connects again gets nothing more.
            await devices[0].DisposeAsync();
            devices.RemoveAt(0);
            await using var again = await RawClient.ConnectAsync(fx.Server, bob);
            var next = await again.ReceiveAsync(f => f.BodyCase is ServerFrame.BodyOneofCase.QueueEmpty or ServerFrame.BodyOneofCase.Envelope);
            Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, next.BodyCase);
        }
        finally
        {
            foreach (var device in devices)
            {
                await device.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Members_acks_and_reads_of_a_group_message_reach_the_sender_and_reads_only_for_ids_sent_to_the_group()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        var group = await CreateAsync(a, "bob");
        await a.ReceiveEnvelopeAsync(); // alice's own create notice
        var id = MessageId.New();
        await a.RequestAsync(SendGroup(group, [Devices("bob", 1)], id));
        var notice = (await b.ReceiveEnvelopeAsync()).Envelope;
        var message = (await b.ReceiveEnvelopeAsync()).Envelope;
        await b.RequestAsync(Wire.Ack(notice.Seq, message.Seq));

        var delivered = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(EnvelopeKind.DeliveryReceipt, delivered.Kind);
        Assert.Equal("bob", delivered.Sender);
        Assert.Equal(id, Assert.Single(delivered.ReceiptIds).ToByteArray());

        var read = new ReadReceipt { Peer = "alice", GroupId = group.GroupId };
        read.MessageIds.Add(ByteString.CopyFrom(MessageId.New()));
        Assert.Equal(ErrorCode.NotFound, (await b.RequestAsync(new ClientFrame { Read = read })).Error.Code);
        read.MessageIds.Clear();
        read.MessageIds.Add(ByteString.CopyFrom(id));
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { Read = read })).BodyCase);
        var receipt = (await a.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal(EnvelopeKind.ReadReceipt, receipt.Kind);
        Assert.Equal("bob", receipt.Sender);
        Assert.Equal(group.GroupId, receipt.GroupId);
        Assert.Equal(id, Assert.Single(receipt.ReceiptIds).ToByteArray());
    }

    [Fact]
    public async Task A_removed_member_gets_nothing_sent_to_the_group_afterwards()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await RawClient.RegisterAsync(fx.Server, "carol");
        var group = await CreateAsync(a, "bob", "carol");
        await a.RequestAsync(Change(group, GroupChangeKind.GroupRemove, "bob"));
        Assert.Equal(GroupChangeKind.GroupCreate, (await b.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);
        Assert.Equal(GroupChangeKind.GroupRemove, (await b.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);

        var withBob = await a.RequestAsync(SendGroup(group, [Devices("bob", 1), Devices("carol", 1)]));
        Assert.Equal(ErrorCode.StaleDevices, withBob.Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(SendGroup(group, [Devices("carol", 1)], text: "after"))).BodyCase);
        Assert.Equal(ErrorCode.NotAMember, (await b.RequestAsync(SendGroup(group, [Devices("alice", 1), Devices("carol", 1)]))).Error.Code);

        // A 1:1 message sent after the group message is the next thing bob gets.
        await a.RequestAsync(Wire.Send("bob", text: "marker"));
        Assert.Equal("marker", (await b.ReceiveEnvelopeAsync()).Envelope.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Membership_and_roles_survive_a_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        GroupState group;
        DeviceCredentials bob;
        await using (var first = await ParleyServer.StartAsync(dataDir))
        {
            bob = await RawClient.RegisterAsync(first, "bob");
            await using var a = await RawClient.ConnectAsync(first, await RawClient.RegisterAsync(first, "alice"));
            group = await CreateAsync(a, "bob");
            await a.RequestAsync(Change(group, GroupChangeKind.GroupPromote, "bob"));
            group = (await a.RequestAsync(Change(group, GroupChangeKind.GroupDemote, "alice"))).GroupState;
        }
        SqliteConnection.ClearAllPools();
        await using (var fx = await ServerFixture.StartAsync(dataDir: dataDir))
        {
            await using var b = await RawClient.ConnectAsync(fx.Server, bob);
            var after = (await b.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).GroupState;
            Assert.Equal(group, after);
            var created = await CreateAsync(b);
            Assert.NotEqual(group.GroupId, created.GroupId);
        }
    }

    [Fact]
    public async Task A_group_holds_at_most_the_configured_number_of_members()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxGroupMembers = 3);
        await using var a = await Connect(fx, "alice");
        foreach (var user in new[] { "bob", "carol", "dave" })
        {
            await RawClient.RegisterAsync(fx.Server, user);
        }
        var create = new CreateGroup { Members = { "bob", "carol", "dave" } };
        Assert.Equal(ErrorCode.TooLarge, (await a.RequestAsync(new ClientFrame { CreateGroup = create })).Error.Code);
        var group = await CreateAsync(a, "bob", "carol");
        Assert.Equal(ErrorCode.TooLarge, (await a.RequestAsync(Change(group, GroupChangeKind.GroupAdd, "dave"))).Error.Code);
        Assert.Equal(ErrorCode.UnknownUser, (await a.RequestAsync(Change(group, GroupChangeKind.GroupAdd, "nobody"))).Error.Code);
    }

    [Fact]
    public async Task A_create_list_may_name_the_creator_or_a_user_twice_and_the_cap_counts_the_group_itself()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxGroupMembers = 3);
        await using var a = await Connect(fx, "alice");
        foreach (var user in new[] { "bob", "carol", "dave" })
        {
            await RawClient.RegisterAsync(fx.Server, user);
        }
        Assert.Equal(3, (await CreateAsync(a, "alice", "bob", "carol")).Members.Count);
        Assert.Equal(3, (await CreateAsync(a, "bob", "carol", "bob")).Members.Count);
        var over = await a.RequestAsync(new ClientFrame { CreateGroup = new CreateGroup { Members = { "bob", "carol", "dave", "alice" } } });
        Assert.Equal(ErrorCode.TooLarge, over.Error.Code);
    }

    [Fact]
    public async Task A_member_who_is_not_an_admin_may_remove_itself_as_a_leave_but_not_promote_itself()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        var group = await CreateAsync(a, "bob");
        Assert.Equal(ErrorCode.Forbidden, (await b.RequestAsync(Change(group, GroupChangeKind.GroupPromote, "bob"))).Error.Code);
        var left = await b.RequestAsync(Change(group, GroupChangeKind.GroupRemove, "bob"));
        Assert.Equal(ServerFrame.BodyOneofCase.GroupState, left.BodyCase);
        Assert.Equal(["alice"], left.GroupState.Members.Select(m => m.User));
        var notice = (await a.ReceiveAsync(f => f.Envelope?.GroupChange?.State?.Version == 2)).Envelope.GroupChange;
        Assert.Equal(GroupChangeKind.GroupLeave, notice.Kind);
    }

    [Fact]
    public async Task Creates_past_the_accounts_group_rate_are_RATE_LIMITED_and_make_no_group()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => (o.Limits.GroupCreateBurst, o.Limits.GroupCreatesPerHourPerAccount) = (2, 60), clock);
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await CreateAsync(a, "bob");
        await CreateAsync(a);
        var refused = await a.RequestAsync(new ClientFrame { CreateGroup = new CreateGroup { Members = { "bob" } } });
        Assert.Equal(ServerFrame.BodyOneofCase.Error, refused.BodyCase);
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.InRange(refused.Error.RetryAfterMs, 1u, 60_000u);
        Assert.Equal(2, (await a.RequestAsync(new ClientFrame { ListGroups = new ListGroups() })).GroupList.Groups.Count);
        Assert.Single((await b.RequestAsync(new ClientFrame { ListGroups = new ListGroups() })).GroupList.Groups);

        // Per account, and it refills with time; changes to existing groups are not creates.
        await CreateAsync(b, "alice");
        clock.Advance(TimeSpan.FromMinutes(1));
        await CreateAsync(a, "bob");
    }

    [Fact]
    public async Task A_group_list_that_would_pass_the_frame_limit_is_TOO_LARGE_and_the_connection_stays()
    {
        // Anyone may put anyone in groups: thirteen groups of 1,000 members with 32-character names
        // are over 512 KiB of GroupState.
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.RegistrationsPerMinutePerAddress = 10_000);
        await using var a = await Connect(fx, "alice");
        var users = Enumerable.Range(0, 999).Select(i => $"member-{i:D4}-{new string('x', 20)}").ToArray();
        var victim = await RawClient.RegisterAsync(fx.Server, users[0]);
        await Parallel.ForEachAsync(users.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (user, _) => await RawClient.RegisterAsync(fx.Server, user));
        for (int g = 0; g < 13; g++)
        {
            await CreateAsync(a, users);
        }

        await using var v = await RawClient.ConnectAsync(fx.Server, victim);
        var answer = await v.RequestAsync(new ClientFrame { ListGroups = new ListGroups() });
        Assert.Equal(ServerFrame.BodyOneofCase.Error, answer.BodyCase);
        Assert.Equal(ErrorCode.TooLarge, answer.Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await v.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
    }

    [Fact]
    public async Task Typing_into_a_group_past_its_rate_is_dropped_so_one_member_cannot_flood_the_others()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => (o.Limits.GroupTypingBurst, o.Limits.GroupTypingPerSecond) = (3, 1), clock);
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        var group = await CreateAsync(a, "bob");
        var typing = new ClientFrame { Typing = new Typing { GroupId = group.GroupId, Typing_ = true } };
        for (int i = 0; i < 10; i++)
        {
            typing.RequestId = 0;
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(typing)).BodyCase);
        }
        Assert.Equal(3, await TypingSeenAsync(b));

        // The rate refills with time, and it is per group member: bob's typing still reaches alice.
        clock.Advance(TimeSpan.FromSeconds(1));
        typing.RequestId = 0;
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(typing)).BodyCase);
        Assert.Equal(1, await TypingSeenAsync(b));
        typing.RequestId = 0;
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(typing)).BodyCase);
        Assert.Equal(1, await TypingSeenAsync(a));
    }

    /// <summary>The typing updates the client got so far: they are queued before the answer to a ping sent now.</summary>
    private static async Task<int> TypingSeenAsync(RawClient client)
    {
        var ping = await client.SendAsync(new ClientFrame { Ping = new Ping() });
        int seen = 0;
        while ((await client.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.TypingUpdate || f.RequestId == ping)).BodyCase == ServerFrame.BodyOneofCase.TypingUpdate)
        {
            seen++;
        }
        return seen;
    }

    private static async Task<RawClient> Connect(ServerFixture fx, string user)
    {
        var credentials = await RawClient.RegisterAsync(fx.Server, user);
        var client = await RawClient.ConnectAsync(fx.Server, credentials);
        await client.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);
        return client;
    }

    private static async Task<GroupState> CreateAsync(RawClient client, params string[] members)
    {
        var answer = await client.RequestAsync(new ClientFrame { CreateGroup = new CreateGroup { Members = { members } } });
        Assert.Equal(ServerFrame.BodyOneofCase.GroupState, answer.BodyCase);
        Assert.Equal(16, answer.GroupState.GroupId.Length);
        return answer.GroupState;
    }

    private static ClientFrame Change(GroupState group, GroupChangeKind kind, string user) =>
        new() { ChangeGroup = new ChangeGroup { GroupId = group.GroupId, Kind = kind, User = user } };

    private static DeviceList Devices(string user, params uint[] ids) => new() { User = user, DeviceIds = { ids } };

    private static ClientFrame SendGroup(GroupState group, DeviceList[] devices, byte[]? id = null, string text = "hi") => new()
    {
        SendGroup = new SendGroupMessage
        {
            MessageId = ByteString.CopyFrom(id ?? MessageId.New()),
            GroupId = group.GroupId,
            SentAt = 1,
            Body = ByteString.CopyFromUtf8(text),
            Devices = { devices },
        },
    };
}
