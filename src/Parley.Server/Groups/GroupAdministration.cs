using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Limits;
using Parley.Server.Messaging;

namespace Parley.Server.Groups;

/// <summary>
/// Creating groups and changing their membership. Every change is decided under the group's
/// gate, written with its GROUP_CHANGE notice to every device of every member (before and after
/// the change) in one group commit, and answered with the new state once durable. Only admins
/// add, remove, promote and demote; anyone may leave, and when the last admin leaves the
/// longest-standing member is promoted. Anyone who is not a member gets NOT_A_MEMBER. Each
/// create or change counts once against the requester's message rate; creates have a rate of
/// their own, as every group stays in memory and on disk while it has a member.
/// </summary>
public sealed partial class GroupAdministration(GroupDirectory groups, AccountDirectory accounts, IGroupStore store, MessageRouter router, IOptions<ParleyOptions> options, TimeProvider time)
{
    private readonly int _maxMembers = options.Value.Limits.MaxGroupMembers;
    private readonly int _maxRequests = options.Value.Limits.MaxJoinRequestsPerGroup;
    private readonly TokenBuckets<long> _creates =
        new(options.Value.Limits.GroupCreatesPerHourPerAccount / 3600.0, options.Value.Limits.GroupCreateBurst, time);

    /// <summary>Creates a group with the requester as admin and the listed users as members.</summary>
    public async Task<ServerFrame> CreateAsync(Account creator, uint creatorDevice, CreateGroup request)
    {
        // The list may name the creator, so it may be as long as the cap; the group is counted below.
        if (request.Members.Count > _maxMembers)
        {
            return MessageRouter.Fail(ErrorCode.TooLarge, $"a group has at most {_maxMembers} members");
        }
        var members = new List<Account> { creator };
        foreach (var user in request.Members.Distinct(StringComparer.Ordinal))
        {
            if (!UserName.IsValid(user) || accounts.Find(user) is not { } account)
            {
                return MessageRouter.Fail(ErrorCode.UnknownUser, "no such user");
            }
            if (account != creator)
            {
                members.Add(account);
            }
        }
        if (members.Count > _maxMembers)
        {
            return MessageRouter.Fail(ErrorCode.TooLarge, $"a group has at most {_maxMembers} members");
        }
        if (!_creates.HasToken(creator.Id))
        {
            _creates.TryTake(creator.Id, out var wait);
            return MessageRouter.RateLimited("too many groups created by this account; wait", wait);
        }
        if (router.TakeSendToken(creator) is { } limited)
        {
            return limited;
        }
        _creates.TryTake(creator.Id, out _);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var group = groups.NewGroup();
        Task commit;
        GroupState state;
        lock (group.Gate)
        {
            foreach (var m in members)
            {
                group.Members[m.Id] = new StoredMember(m.Id, m == creator ? GroupRole.GroupAdmin : GroupRole.GroupMember, now);
            }
            group.Version = 1;
            state = StateOf(group);
            var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, [.. group.Members.Values], [], Deleted: false);
            var change = new GroupChange { Kind = GroupChangeKind.GroupCreate, Actor = creator.User, State = state };
            change.Users.AddRange(members.Select(m => m.User));
            commit = store.CommitAsync(write, Notice(group, creator, creatorDevice, change, now), DevicesOf(group.Members.Keys));
            // Visible at once: a member that gets the notice live may send before this answer goes.
            foreach (var m in members)
            {
                groups.Joined(group, m.Id);
            }
            groups.Add(group);
        }
        try
        {
            await commit;
        }
        catch
        {
            lock (group.Gate)
            {
                groups.Remove(group);
                foreach (var m in members)
                {
                    groups.Left(group, m.Id);
                }
            }
            throw;
        }
        return new ServerFrame { GroupState = state };
    }

    /// <summary>Adds, removes, promotes, demotes, or lets the requester leave.</summary>
    public async Task<ServerFrame> ChangeAsync(Account actor, uint actorDevice, ChangeGroup request)
    {
        if (request.GroupId.Length != 16 || groups.Find(request.GroupId) is not { } group)
        {
            return NotAMember();
        }
        Account? target = null;
        if (request.Kind != GroupChangeKind.GroupLeave)
        {
            if (request.Kind is not (GroupChangeKind.GroupAdd or GroupChangeKind.GroupRemove or GroupChangeKind.GroupPromote or GroupChangeKind.GroupDemote))
            {
                return MessageRouter.Fail(ErrorCode.BadRequest, "kind must be GROUP_ADD, GROUP_REMOVE, GROUP_PROMOTE, GROUP_DEMOTE or GROUP_LEAVE");
            }
            if (!UserName.IsValid(request.User) || accounts.Find(request.User) is not { } account)
            {
                return MessageRouter.Fail(ErrorCode.UnknownUser, "no such user");
            }
            target = account;
        }
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Task commit;
        GroupState state;
        lock (group.Gate)
        {
            if (!group.Members.TryGetValue(actor.Id, out var self))
            {
                return NotAMember();
            }
            // GROUP_REMOVE of oneself is a leave, which anyone may do.
            bool leaving = request.Kind == GroupChangeKind.GroupRemove && target == actor;
            if (target is not null && !leaving && self.Role != GroupRole.GroupAdmin)
            {
                return MessageRouter.Fail(ErrorCode.Forbidden, "only group admins may do that");
            }
            if (router.TakeSendToken(actor) is { } limited)
            {
                return limited;
            }
            var before = group.Members.Keys.ToList();
            var change = new GroupChange { Kind = request.Kind, Actor = actor.User };
            var upserts = new List<StoredMember>();
            var removed = new List<long>();
            var answered = new List<long>();
            switch (request.Kind)
            {
                case GroupChangeKind.GroupAdd:
                    if (group.Members.ContainsKey(target!.Id))
                    {
                        return new ServerFrame { GroupState = StateOf(group) }; // already there: nothing changes
                    }
                    if (group.Members.Count >= _maxMembers)
                    {
                        return MessageRouter.Fail(ErrorCode.TooLarge, $"a group has at most {_maxMembers} members");
                    }
                    upserts.Add(group.Members[target.Id] = new StoredMember(target.Id, GroupRole.GroupMember, now));
                    if (group.Requests.Remove(target.Id))
                    {
                        answered.Add(target.Id);
                    }
                    break;
                case GroupChangeKind.GroupRemove when target == actor:
                case GroupChangeKind.GroupLeave:
                    target = actor;
                    change.Kind = GroupChangeKind.GroupLeave;
                    group.Members.Remove(actor.Id);
                    removed.Add(actor.Id);
                    if (group.Members.Count > 0 && group.HasNoAdmin)
                    {
                        // The longest-standing member; ties (members added together) by account age.
                        var next = group.Members.Values.OrderBy(m => m.JoinedAt).ThenBy(m => m.Account).First();
                        upserts.Add(group.Members[next.Account] = next with { Role = GroupRole.GroupAdmin });
                        change.Promoted.Add(accounts.Find(next.Account)?.User ?? "");
                    }
                    break;
                case GroupChangeKind.GroupRemove:
                    if (!group.Members.Remove(target!.Id))
                    {
                        return MessageRouter.Fail(ErrorCode.NotFound, $"{target.User} is not a member of this group");
                    }
                    removed.Add(target.Id);
                    break;
                default: // promote, demote
                    if (!group.Members.TryGetValue(target!.Id, out var member))
                    {
                        return MessageRouter.Fail(ErrorCode.NotFound, $"{target.User} is not a member of this group");
                    }
                    var role = request.Kind == GroupChangeKind.GroupPromote ? GroupRole.GroupAdmin : GroupRole.GroupMember;
                    if (member.Role == role)
                    {
                        return new ServerFrame { GroupState = StateOf(group) };
                    }
                    if (role == GroupRole.GroupMember && group.Members.Values.Count(m => m.Role == GroupRole.GroupAdmin) == 1)
                    {
                        return MessageRouter.Fail(ErrorCode.BadRequest, "a group keeps at least one admin: promote another member first, or leave");
                    }
                    upserts.Add(group.Members[target.Id] = member with { Role = role });
                    break;
            }
            change.Users.Add(target.User);
            group.Version++;
            state = StateOf(group);
            change.State = state;
            bool gone = group.Members.Count == 0;
            var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, upserts, removed, gone) { RequestsRemoved = answered };
            // The notice goes to everyone who was or is a member: a removed member learns it is out.
            commit = store.CommitAsync(write, Notice(group, actor, actorDevice, change, now), DevicesOf(before.Union(group.Members.Keys)));
            foreach (var account in removed)
            {
                groups.Left(group, account);
            }
            if (upserts.Count > 0 && request.Kind == GroupChangeKind.GroupAdd)
            {
                groups.Joined(group, target.Id);
            }
            if (gone)
            {
                groups.Remove(group);
            }
        }
        await commit;
        return new ServerFrame { GroupState = state };
    }

    /// <summary>The group's state, for members only.</summary>
    public ServerFrame Get(Account requester, GetGroup request)
    {
        if (request.GroupId.Length != 16 || groups.Find(request.GroupId) is not { } group)
        {
            return NotAMember();
        }
        lock (group.Gate)
        {
            return group.Members.TryGetValue(requester.Id, out var member)
                ? new ServerFrame { GroupState = StateOf(group, withRequests: member.Role == GroupRole.GroupAdmin) }
                : NotAMember();
        }
    }

    /// <summary>
    /// Every group the requester is a member of; TOO_LARGE when they do not fit in one frame.
    /// Anyone may add anyone to groups, and thirteen groups of 1,000 long names pass the frame
    /// limit, which a client must refuse by closing its connection.
    /// </summary>
    public ServerFrame List(Account requester)
    {
        var list = new GroupList();
        long bytes = 0;
        foreach (var group in groups.GroupsOf(requester.Id))
        {
            lock (group.Gate)
            {
                if (group.Members.ContainsKey(requester.Id))
                {
                    var state = StateOf(group);
                    bytes += state.CalculateSize() + 4; // the field's tag and length
                    list.Groups.Add(state);
                }
            }
            if (bytes > MaxListBytes)
            {
                return MessageRouter.Fail(ErrorCode.TooLarge, $"in too many groups to list in one frame ({WireLimits.MaxFrameBytes} bytes); get_group each group instead");
            }
        }
        return new ServerFrame { GroupList = list };
    }

    // A frame's room for the list: the rest of the frame (request id, field tags) is a few bytes.
    private const int MaxListBytes = WireLimits.MaxFrameBytes - 64;

    /// <summary>NOT_A_MEMBER, the same for a group that does not exist, so ids cannot be probed.</summary>
    public static ServerFrame NotAMember() => MessageRouter.Fail(ErrorCode.NotAMember, "not a member of this group");

    /// <summary>The members and roles, oldest member first (and the join requests, oldest first, for an admin); under the group's gate.</summary>
    private GroupState StateOf(Group group, bool withRequests = false)
    {
        var state = new GroupState { GroupId = group.Id, Version = group.Version };
        foreach (var m in group.Members.Values.OrderBy(m => m.JoinedAt).ThenBy(m => m.Account))
        {
            if (accounts.Find(m.Account) is { } account)
            {
                state.Members.Add(new GroupMember { User = account.User, Role = m.Role, JoinedAt = m.JoinedAt });
            }
        }
        if (withRequests)
        {
            foreach (var r in group.Requests.Values.OrderBy(r => r.At).ThenBy(r => r.Account))
            {
                if (accounts.Find(r.Account) is { } account)
                {
                    state.Requests.Add(account.User);
                }
            }
        }
        return state;
    }

    private static Envelope Notice(Group group, Account actor, uint actorDevice, GroupChange change, long now) => new()
    {
        Kind = EnvelopeKind.GroupChange,
        Sender = actor.User,
        SenderDevice = actorDevice,
        GroupId = group.Id,
        SentAt = now,
        GroupChange = change,
    };

    private List<long> DevicesOf(IEnumerable<long> accountIds)
    {
        var keys = new List<long>();
        foreach (var id in accountIds)
        {
            if (accounts.Find(id) is { } account)
            {
                foreach (var device in account.Devices)
                {
                    keys.Add(new DeviceAddress(account.Id, device.Id).Key);
                }
            }
        }
        return keys;
    }
}
