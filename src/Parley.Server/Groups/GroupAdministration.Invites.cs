using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Messaging;

namespace Parley.Server.Groups;

// Invite links: an admin makes the group's one link (a 32-byte random secret the server keeps only
// the SHA-256 of) or revokes it; anyone holding it joins, or asks to when the link needs approval,
// and an admin approves or denies. A join is a membership change like an add: decided under the
// gate, written with its GROUP_CHANGE notice to every member device in one group commit.
public sealed partial class GroupAdministration
{
    /// <summary>Bytes of an invite link's secret: 256 random bits, so a link cannot be guessed.</summary>
    public const int InviteSecretBytes = 32;

    /// <summary>Makes the group's invite link (replacing the old one) or revokes it; admins only.</summary>
    public async Task<ServerFrame> SetInviteAsync(Account actor, uint actorDevice, SetGroupInvite request)
    {
        if (request.GroupId.Length != 16 || groups.Find(request.GroupId) is not { } group)
        {
            return NotAMember();
        }
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        byte[]? secret = null;
        Task commit;
        lock (group.Gate)
        {
            if (AdminCheck(group, actor) is { } refused)
            {
                return refused;
            }
            if (router.TakeSendToken(actor) is { } limited)
            {
                return limited;
            }
            var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, [], [], Deleted: false);
            if (request.Revoke)
            {
                group.Invite = null;
                write = write with { InviteRevoked = true };
            }
            else
            {
                secret = RandomNumberGenerator.GetBytes(InviteSecretBytes);
                group.Invite = new StoredInvite(SHA256.HashData(secret), request.Approve, new DeviceAddress(actor.Id, actorDevice).Key, now);
                write = write with { Invite = group.Invite };
            }
            commit = store.CommitAsync(write, new Envelope(), []);
        }
        await commit;
        return secret is null
            ? new ServerFrame { Ok = new Ok() }
            : new ServerFrame { GroupInvite = new GroupInvite { GroupId = group.Id, Secret = ByteString.CopyFrom(secret), Approve = request.Approve } };
    }

    /// <summary>
    /// Joins by link: GroupState once a member (at once, or already), GroupJoinPending when the
    /// link needs an admin's approval, INVALID_INVITE for a wrong, revoked or replaced link (the
    /// same for a group that does not exist, so ids cannot be probed).
    /// </summary>
    public async Task<ServerFrame> JoinAsync(Account joiner, uint joinerDevice, JoinGroup request)
    {
        if (request.GroupId.Length != 16 || request.Secret.Length != InviteSecretBytes || groups.Find(request.GroupId) is not { } group)
        {
            return InvalidInvite();
        }
        var hash = SHA256.HashData(request.Secret.Span);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Task commit;
        ServerFrame answer;
        lock (group.Gate)
        {
            if (group.Invite is not { } invite || !CryptographicOperations.FixedTimeEquals(hash, invite.Hash))
            {
                return InvalidInvite();
            }
            if (group.Members.ContainsKey(joiner.Id))
            {
                return new ServerFrame { GroupState = StateOf(group) };
            }
            if (invite.Approve && group.Requests.ContainsKey(joiner.Id))
            {
                return new ServerFrame { GroupJoinPending = new GroupJoinPending { GroupId = group.Id } };
            }
            if (invite.Approve ? group.Requests.Count >= _maxRequests : group.Members.Count >= _maxMembers)
            {
                return invite.Approve
                    ? MessageRouter.Fail(ErrorCode.TooLarge, $"this group has {_maxRequests} join requests waiting; try again once its admins have answered some")
                    : MessageRouter.Fail(ErrorCode.TooLarge, $"a group has at most {_maxMembers} members");
            }
            if (router.TakeSendToken(joiner) is { } limited)
            {
                return limited;
            }
            var change = new GroupChange { Actor = joiner.User, Users = { joiner.User } };
            if (invite.Approve)
            {
                var asked = new StoredJoinRequest(joiner.Id, now);
                group.Requests[joiner.Id] = asked;
                change.Kind = GroupChangeKind.GroupJoinRequest;
                change.State = StateOf(group);
                var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, [], [], Deleted: false) { RequestsAdded = [asked] };
                // Only the admins hear of it: they are the ones who answer.
                commit = store.CommitAsync(write, Notice(group, joiner, joinerDevice, change, now), DevicesOf(Admins(group)));
                answer = new ServerFrame { GroupJoinPending = new GroupJoinPending { GroupId = group.Id } };
            }
            else
            {
                change.Kind = GroupChangeKind.GroupJoin;
                if (Welcomer(group, invite) is var (user, device))
                {
                    change.Welcomer = user;
                    change.WelcomerDevice = device;
                }
                commit = Admit(group, joiner, joinerDevice, change, now, out var state);
                answer = new ServerFrame { GroupState = state };
            }
        }
        await commit;
        return answer;
    }

    /// <summary>An admin approves (the requester joins) or denies a join request.</summary>
    public async Task<ServerFrame> AnswerJoinAsync(Account admin, uint adminDevice, AnswerJoinRequest request)
    {
        if (request.GroupId.Length != 16 || groups.Find(request.GroupId) is not { } group)
        {
            return NotAMember();
        }
        if (!UserName.IsValid(request.User) || accounts.Find(request.User) is not { } requester)
        {
            return MessageRouter.Fail(ErrorCode.UnknownUser, "no such user");
        }
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Task commit;
        GroupState state;
        lock (group.Gate)
        {
            if (AdminCheck(group, admin) is { } refused)
            {
                return refused;
            }
            if (!group.Requests.ContainsKey(requester.Id))
            {
                return MessageRouter.Fail(ErrorCode.NotFound, $"{requester.User} has not asked to join this group (or was answered already)");
            }
            if (request.Approve && group.Members.Count >= _maxMembers)
            {
                return MessageRouter.Fail(ErrorCode.TooLarge, $"a group has at most {_maxMembers} members");
            }
            if (router.TakeSendToken(admin) is { } limited)
            {
                return limited;
            }
            var change = new GroupChange { Actor = admin.User, Users = { requester.User } };
            if (request.Approve)
            {
                // The approving device sends the new member the title itself (no welcomer).
                change.Kind = GroupChangeKind.GroupJoin;
                commit = Admit(group, requester, adminDevice, change, now, out _, actor: admin);
            }
            else
            {
                group.Requests.Remove(requester.Id);
                change.Kind = GroupChangeKind.GroupJoinDenied;
                // The requester is not a member: its copy names the group and nothing else.
                change.State = new GroupState { GroupId = group.Id, Version = group.Version };
                var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, [], [], Deleted: false) { RequestsRemoved = [requester.Id] };
                commit = store.CommitAsync(write, Notice(group, admin, adminDevice, change, now), DevicesOf(Admins(group).Append(requester.Id)));
            }
            state = StateOf(group, withRequests: true);
        }
        await commit;
        return new ServerFrame { GroupState = state };
    }

    /// <summary>
    /// Makes <paramref name="joiner"/> a member (under the gate): the change, its notice to every
    /// member device (the joiner's included) and the answered request in one commit.
    /// </summary>
    private Task Admit(Group group, Account joiner, uint actorDevice, GroupChange change, long now, out GroupState state, Account? actor = null)
    {
        var member = group.Members[joiner.Id] = new StoredMember(joiner.Id, GroupRole.GroupMember, now);
        bool asked = group.Requests.Remove(joiner.Id);
        group.Version++;
        state = StateOf(group);
        change.State = state;
        var write = new GroupWrite(group.Row, group.Id.ToByteArray(), group.Version, [member], [], Deleted: false) { RequestsRemoved = asked ? [joiner.Id] : [] };
        var commit = store.CommitAsync(write, Notice(group, actor ?? joiner, actorDevice, change, now), DevicesOf(group.Members.Keys));
        groups.Joined(group, joiner.Id);
        return commit;
    }

    /// <summary>NOT_A_MEMBER or FORBIDDEN unless <paramref name="account"/> is an admin of the group; under the gate.</summary>
    private static ServerFrame? AdminCheck(Group group, Account account)
    {
        if (!group.Members.TryGetValue(account.Id, out var self))
        {
            return NotAMember();
        }
        return self.Role == GroupRole.GroupAdmin ? null : MessageRouter.Fail(ErrorCode.Forbidden, "only group admins may do that");
    }

    private static IEnumerable<long> Admins(Group group) =>
        group.Members.Values.Where(m => m.Role == GroupRole.GroupAdmin).Select(m => m.Account).ToList();

    /// <summary>
    /// Who sends a joiner the title: the device that made the link while its account is still an
    /// admin and has it, else the longest-standing admin's first device; under the gate.
    /// </summary>
    private (string User, uint Device)? Welcomer(Group group, StoredInvite invite)
    {
        long creator = invite.CreatorDevice >> 16;
        uint creatorDevice = (uint)(invite.CreatorDevice & 0xFFFF);
        if (group.Members.TryGetValue(creator, out var m) && m.Role == GroupRole.GroupAdmin &&
            accounts.Find(creator) is { } account && account.FindDevice(creatorDevice) is not null)
        {
            return (account.User, creatorDevice);
        }
        foreach (var admin in group.Members.Values.Where(m => m.Role == GroupRole.GroupAdmin).OrderBy(m => m.JoinedAt).ThenBy(m => m.Account))
        {
            if (accounts.Find(admin.Account) is { Devices.Length: > 0 } oldest)
            {
                return (oldest.User, oldest.Devices.Min(d => d.Id));
            }
        }
        return null;
    }

    /// <summary>INVALID_INVITE: the same for a wrong secret, a revoked or replaced link and a group that does not exist.</summary>
    public static ServerFrame InvalidInvite() =>
        MessageRouter.Fail(ErrorCode.InvalidInvite, "this invite link is not valid: it is wrong, or an admin revoked or replaced it");
}
