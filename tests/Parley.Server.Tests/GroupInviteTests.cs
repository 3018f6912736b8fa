using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>Group invite links on the wire: made and revoked by admins, joins with and without approval, INVALID_INVITE, limits, durability.</summary>
public sealed class GroupInviteTests
{
    [Fact]
    public async Task Anyone_with_an_admins_link_joins_and_every_member_device_gets_the_join_naming_the_welcomer()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await using var c = await Connect(fx, "carol");
        await using var m = await Connect(fx, "mallory");
        var group = await CreateAsync(a, "bob");

        Assert.Equal(ErrorCode.Forbidden, (await b.RequestAsync(Invite(group))).Error.Code);
        Assert.Equal(ErrorCode.NotAMember, (await m.RequestAsync(Invite(group))).Error.Code);
        var invite = (await a.RequestAsync(Invite(group))).GroupInvite;
        Assert.Equal(32, invite.Secret.Length);
        Assert.False(invite.Approve);

        var joined = await c.RequestAsync(Join(group, invite.Secret));
        Assert.Equal(["alice", "bob", "carol"], joined.GroupState.Members.Select(x => x.User));
        Assert.Equal(GroupRole.GroupMember, joined.GroupState.Members[2].Role);
        Assert.Equal(2ul, joined.GroupState.Version);
        // Joining again changes nothing.
        Assert.Equal(joined.GroupState, (await c.RequestAsync(Join(group, invite.Secret))).GroupState);

        Assert.Equal(GroupChangeKind.GroupCreate, (await b.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);
        foreach (var device in new[] { a, b, c })
        {
            var notice = (await device.ReceiveAsync(f => f.Envelope?.GroupChange?.Kind == GroupChangeKind.GroupJoin)).Envelope;
            Assert.Equal(("carol", "carol", "alice", 1u), (notice.GroupChange.Actor, Assert.Single(notice.GroupChange.Users), notice.GroupChange.Welcomer, notice.GroupChange.WelcomerDevice));
            Assert.Equal(joined.GroupState, notice.GroupChange.State);
        }

        // The joiner is in the device set of the next group message, and gets it.
        var stale = await a.RequestAsync(SendGroup(group, [Devices("bob", 1)]));
        Assert.Equal(ErrorCode.StaleDevices, stale.Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(SendGroup(group, [Devices("bob", 1), Devices("carol", 1)], "welcome"))).BodyCase);
        Assert.Equal("welcome", (await c.ReceiveAsync(f => f.Envelope?.Kind == EnvelopeKind.Message)).Envelope.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_wrong_revoked_or_replaced_link_gets_INVALID_INVITE_and_changes_nothing()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var d = await Connect(fx, "dave");
        var group = await CreateAsync(a);
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(group, ByteString.CopyFrom(new byte[32])))).Error.Code); // no link yet

        var first = (await a.RequestAsync(Invite(group))).GroupInvite.Secret;
        var wrong = first.ToByteArray();
        wrong[0] ^= 1;
        var unknown = new GroupState { GroupId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)) };
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(group, ByteString.CopyFrom(wrong)))).Error.Code);
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(unknown, first))).Error.Code);
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(group, ByteString.CopyFrom(first.Span[..16])))).Error.Code);

        var second = (await a.RequestAsync(Invite(group))).GroupInvite.Secret;
        Assert.NotEqual(first, second);
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(group, first))).Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Invite(group, revoke: true))).BodyCase);
        Assert.Equal(ErrorCode.InvalidInvite, (await d.RequestAsync(Join(group, second))).Error.Code);

        Assert.Equal(ErrorCode.NotAMember, (await d.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).Error.Code);
        Assert.Equal(1ul, (await a.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).GroupState.Version);
    }

    [Fact]
    public async Task A_link_that_needs_approval_makes_requests_only_admins_see_and_answer()
    {
        await using var fx = await ServerFixture.StartAsync();
        await using var a = await Connect(fx, "alice");
        await using var b = await Connect(fx, "bob");
        await using var c = await Connect(fx, "carol");
        await using var d = await Connect(fx, "dave");
        var group = await CreateAsync(a, "bob");
        var invite = (await a.RequestAsync(Invite(group, approve: true))).GroupInvite;
        Assert.True(invite.Approve);

        Assert.Equal(group.GroupId, (await c.RequestAsync(Join(group, invite.Secret))).GroupJoinPending.GroupId);
        Assert.Equal(ServerFrame.BodyOneofCase.GroupJoinPending, (await c.RequestAsync(Join(group, invite.Secret))).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.GroupJoinPending, (await d.RequestAsync(Join(group, invite.Secret))).BodyCase);
        Assert.Equal(ErrorCode.NotAMember, (await c.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).Error.Code);

        // The admin hears of each request once; a plain member sees no requests.
        var asked = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var notice = (await a.ReceiveAsync(f => f.Envelope?.GroupChange?.Kind == GroupChangeKind.GroupJoinRequest)).Envelope.GroupChange;
            asked.Add(Assert.Single(notice.Users));
        }
        Assert.Equal(["carol", "dave"], asked);
        Assert.Equal(["carol", "dave"], (await a.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).GroupState.Requests);
        Assert.Empty((await b.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).GroupState.Requests);
        Assert.Equal(ErrorCode.Forbidden, (await b.RequestAsync(Answer(group, "carol", approve: true))).Error.Code);

        var approved = (await a.RequestAsync(Answer(group, "carol", approve: true))).GroupState;
        Assert.Equal(["alice", "bob", "carol"], approved.Members.Select(x => x.User));
        Assert.Equal(["dave"], approved.Requests);
        var denied = (await a.RequestAsync(Answer(group, "dave", approve: false))).GroupState;
        Assert.Empty(denied.Requests);
        Assert.Equal(ErrorCode.NotFound, (await a.RequestAsync(Answer(group, "dave", approve: true))).Error.Code);

        // bob's next notice after the create is carol's join (he never saw the requests); no welcomer: the approver sends the title.
        Assert.Equal(GroupChangeKind.GroupCreate, (await b.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);
        var join = (await b.ReceiveEnvelopeAsync()).Envelope.GroupChange;
        Assert.Equal((GroupChangeKind.GroupJoin, "alice", "carol", ""), (join.Kind, join.Actor, Assert.Single(join.Users), join.Welcomer));
        Assert.Equal(GroupChangeKind.GroupJoin, (await c.ReceiveEnvelopeAsync()).Envelope.GroupChange.Kind);
        // dave is told, and learns nothing about the members.
        var no = (await d.ReceiveEnvelopeAsync()).Envelope.GroupChange;
        Assert.Equal((GroupChangeKind.GroupJoinDenied, "dave"), (no.Kind, Assert.Single(no.Users)));
        Assert.Empty(no.State.Members);
        Assert.Equal(ErrorCode.NotAMember, (await d.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).Error.Code);
    }

    [Fact]
    public async Task Links_and_requests_survive_a_restart_and_the_store_holds_only_a_hash_of_the_secret()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        GroupState group;
        ByteString secret;
        DeviceCredentials alice, dave;
        await using (var first = await ParleyServer.StartAsync(dataDir))
        {
            alice = await RawClient.RegisterAsync(first, "alice");
            dave = await RawClient.RegisterAsync(first, "dave");
            await using var a = await RawClient.ConnectAsync(first, alice);
            await using var c = await RawClient.ConnectAsync(first, await RawClient.RegisterAsync(first, "carol"));
            group = await CreateAsync(a);
            secret = (await a.RequestAsync(Invite(group, approve: true))).GroupInvite.Secret;
            Assert.Equal(ServerFrame.BodyOneofCase.GroupJoinPending, (await c.RequestAsync(Join(group, secret))).BodyCase);
        }
        SqliteConnection.ClearAllPools();
        var files = Directory.GetFiles(dataDir).Select(File.ReadAllBytes).ToList();
        Assert.DoesNotContain(files, bytes => bytes.AsSpan().IndexOf(secret.Span) >= 0);
        Assert.Contains(files, bytes => bytes.AsSpan().IndexOf(SHA256.HashData(secret.Span)) >= 0);

        await using (var fx = await ServerFixture.StartAsync(dataDir: dataDir))
        {
            await using var a = await RawClient.ConnectAsync(fx.Server, alice);
            await using var d = await RawClient.ConnectAsync(fx.Server, dave);
            Assert.Equal(ServerFrame.BodyOneofCase.GroupJoinPending, (await d.RequestAsync(Join(group, secret))).BodyCase);
            Assert.Equal(["carol", "dave"], (await a.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = group.GroupId } })).GroupState.Requests);
            Assert.Equal(["alice", "carol"], (await a.RequestAsync(Answer(group, "carol", approve: true))).GroupState.Members.Select(x => x.User));
        }
    }

    [Fact]
    public async Task Join_requests_and_joins_stop_at_the_configured_limits()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Limits.MaxJoinRequestsPerGroup = 1;
            o.Limits.MaxGroupMembers = 2;
        });
        await using var a = await Connect(fx, "alice");
        await using var c = await Connect(fx, "carol");
        await using var d = await Connect(fx, "dave");
        var group = await CreateAsync(a);
        var secret = (await a.RequestAsync(Invite(group, approve: true))).GroupInvite.Secret;
        Assert.Equal(ServerFrame.BodyOneofCase.GroupJoinPending, (await c.RequestAsync(Join(group, secret))).BodyCase);
        Assert.Equal(ErrorCode.TooLarge, (await d.RequestAsync(Join(group, secret))).Error.Code);

        secret = (await a.RequestAsync(Invite(group))).GroupInvite.Secret;
        Assert.Equal(ServerFrame.BodyOneofCase.GroupState, (await d.RequestAsync(Join(group, secret))).BodyCase);
        Assert.Equal(ErrorCode.TooLarge, (await a.RequestAsync(Answer(group, "carol", approve: true))).Error.Code);
        Assert.Equal(ErrorCode.TooLarge, (await c.RequestAsync(Join(group, secret))).Error.Code);
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
        return answer.GroupState;
    }

    private static ClientFrame Invite(GroupState group, bool approve = false, bool revoke = false) =>
        new() { GroupInvite = new SetGroupInvite { GroupId = group.GroupId, Approve = approve, Revoke = revoke } };

    private static ClientFrame Join(GroupState group, ByteString secret) =>
        new() { JoinGroup = new JoinGroup { GroupId = group.GroupId, Secret = secret } };

    private static ClientFrame Answer(GroupState group, string user, bool approve) =>
        new() { AnswerJoin = new AnswerJoinRequest { GroupId = group.GroupId, User = user, Approve = approve } };

    private static DeviceList Devices(string user, params uint[] ids) => new() { User = user, DeviceIds = { ids } };

    private static ClientFrame SendGroup(GroupState group, DeviceList[] devices, string text = "hi") => new()
    {
        SendGroup = new SendGroupMessage
        {
            MessageId = ByteString.CopyFrom(MessageId.New()),
            GroupId = group.GroupId,
            SentAt = 1,
            Body = ByteString.CopyFromUtf8(text),
            Devices = { devices },
        },
    };
}
