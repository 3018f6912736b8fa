using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Client.Groups;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>Group invite links through the real SDK: joining, the title from the welcomer, sender keys for the joiner, late-joiner secrecy, approval and denial.</summary>
public sealed class GroupInviteClientTests
{
    [Fact]
    public async Task A_member_who_joins_by_link_gets_the_title_and_what_follows_but_cannot_read_what_came_before()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var dave = await server.RegisterAsync("dave");
        var bobSaw = new ConcurrentQueue<GroupChangedEventArgs>();
        bob.GroupChanged += (_, e) => bobSaw.Enqueue(e);
        var group = await alice.CreateGroupAsync("Hikers", ["bob"], Wait.Token());
        var early = await alice.SendGroupTextAsync(group.Id, "early", Wait.Token());
        await bob.SyncAsync(Wait.Token());

        var link = await alice.CreateGroupInviteAsync(group.Id, cancellationToken: Wait.Token());
        Assert.StartsWith(GroupInviteLink.Scheme, link);
        var joined = await dave.JoinGroupAsync(link, Wait.Token());
        Assert.False(joined.Pending);
        Assert.Equal(["alice", "bob", "dave"], joined.Group!.Members.Select(m => m.User));

        // alice's device made the link: it sends the title when the join notice reaches it.
        await Wait.UntilAsync(() => dave.FindGroup(group.Id)?.Title == "Hikers", "dave learns the title");
        var fromBob = await bob.SendGroupTextAsync(group.Id, "hi dave", Wait.Token());
        await dave.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => dave.GetGroupConversation(group.Id).Any(m => m.Id == fromBob), "dave reads bob's message");
        Assert.Equal(["hi dave"], dave.GetGroupConversation(group.Id).Select(m => m.Text));
        var earlyBody = tap.GroupSends.Single(s => MessageId.ToText(s.MessageId.Span) == early).Body.ToByteArray();
        Assert.Null(dave.Testing.TryReadGroupBody("alice", alice.Credentials.DeviceId, earlyBody));
        await Wait.UntilAsync(() => bobSaw.Any(e => e.Change == "join" && e.Users.SequenceEqual(["dave"]) && e.Actor == "dave"), "bob sees dave join");

        // A revoked link gets INVALID_INVITE.
        await alice.RevokeGroupInviteAsync(group.Id, Wait.Token());
        var carol = await server.RegisterAsync("carol");
        var revoked = await Assert.ThrowsAsync<ParleyException>(() => carol.JoinGroupAsync(link, Wait.Token()));
        Assert.Equal(ErrorCode.InvalidInvite, revoked.Code);
        await Assert.ThrowsAsync<ArgumentException>(() => carol.JoinGroupAsync("https://example.com/join", Wait.Token()));
    }

    [Fact]
    public async Task Joins_by_a_link_that_needs_approval_wait_for_an_admin_who_approves_or_denies()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var carol = await server.RegisterAsync("carol");
        var dave = await server.RegisterAsync("dave");
        var aliceSaw = new ConcurrentQueue<GroupChangedEventArgs>();
        var daveSaw = new ConcurrentQueue<GroupChangedEventArgs>();
        alice.GroupChanged += (_, e) => aliceSaw.Enqueue(e);
        dave.GroupChanged += (_, e) => daveSaw.Enqueue(e);
        var group = await alice.CreateGroupAsync("Council", [], Wait.Token());
        var link = await alice.CreateGroupInviteAsync(group.Id, approve: true, Wait.Token());

        Assert.True((await carol.JoinGroupAsync(link, Wait.Token())).Pending);
        Assert.True((await dave.JoinGroupAsync(link, Wait.Token())).Pending);
        Assert.Null(carol.FindGroup(group.Id));
        await Wait.UntilAsync(() => aliceSaw.Count(e => e.Change == "join_request") == 2, "alice hears of both requests");
        Assert.Equal(["carol", "dave"], await alice.GetJoinRequestsAsync(group.Id, Wait.Token()));

        var approved = await alice.ApproveJoinRequestAsync(group.Id, "carol", Wait.Token());
        Assert.Equal(["alice", "carol"], approved.Members.Select(m => m.User));
        await alice.DenyJoinRequestAsync(group.Id, "dave", Wait.Token());
        Assert.Empty(await alice.GetJoinRequestsAsync(group.Id, Wait.Token()));

        await carol.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => carol.FindGroup(group.Id) is { IsMember: true, Title: "Council" }, "carol is in, with the title");
        await Wait.UntilAsync(() => daveSaw.Any(e => e.Change == "join_denied" && e.Group.Id == group.Id), "dave is told no");
        Assert.False(dave.FindGroup(group.Id)?.IsMember ?? false);
        var stranger = await Assert.ThrowsAsync<ParleyException>(() => dave.GetGroupAsync(group.Id, Wait.Token()));
        Assert.Equal(ErrorCode.NotAMember, stranger.Code);
    }
}
