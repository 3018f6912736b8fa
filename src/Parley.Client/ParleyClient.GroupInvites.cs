using Google.Protobuf;
using Parley.Client.Groups;
using Parley.Protocol;

namespace Parley.Client;

// Group invite links: an admin makes or revokes the group's link; anyone holding it joins (or asks
// to, when joins need approval) and an admin approves or denies. The joiner gets the title like an
// added member: an end-to-end encrypted group-state message, from the approving admin's device or,
// for a join without approval, from the device the server names as welcomer in the GROUP_JOIN notice.
public sealed partial class ParleyClient
{
    /// <summary>Titles queued for members who joined by a link this device made, not yet waited for.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _welcomes = new();

    /// <summary>
    /// Waits until the titles this device queued for members who joined by its link (as it
    /// received their GROUP_JOIN) have reached the server: for a process that exits once it has
    /// received, like the CLI. What is not sent when the token ends stays in the outbox.
    /// </summary>
    public async Task FlushGroupWelcomesAsync(CancellationToken cancellationToken = default)
    {
        while (_welcomes.TryPeek(out var id))
        {
            try
            {
                await WaitUntilSentAsync(id, cancellationToken);
            }
            catch (ParleyException e) when (!e.IsConnectionLost)
            {
                // Refused for good (we left the group meanwhile): nothing left to wait for.
            }
            _welcomes.TryDequeue(out _);
        }
    }
    /// <summary>
    /// Makes the group's invite link (admins only, else FORBIDDEN), replacing the link it had: the
    /// old one stops working. With <paramref name="approve"/>, joins by it wait for an admin. The
    /// secret is shown once: the server keeps only its hash.
    /// </summary>
    public async Task<string> CreateGroupInviteAsync(string groupId, bool approve = false, CancellationToken cancellationToken = default)
    {
        var id = RequireGroupId(groupId);
        var request = new SetGroupInvite { GroupId = ByteString.CopyFrom(id), Approve = approve };
        var answer = await _connection.RequestAsync(() => new ClientFrame { GroupInvite = request.Clone() }, cancellationToken);
        if (answer.GroupInvite is not { } invite || invite.GroupId != request.GroupId || invite.Secret.Length != GroupInviteLink.SecretBytes)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server did not answer with a usable invite link.");
        }
        return GroupInviteLink.Format(id, invite.Secret.Span);
    }

    /// <summary>Revokes the group's invite link (admins only): joining by it gets INVALID_INVITE from then on.</summary>
    public async Task RevokeGroupInviteAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var id = RequireGroupId(groupId);
        await _connection.RequestAsync(() => new ClientFrame { GroupInvite = new SetGroupInvite { GroupId = ByteString.CopyFrom(id), Revoke = true } }, cancellationToken);
    }

    /// <summary>
    /// Joins the group of an invite link, or asks to when the link needs an admin's approval.
    /// Throws <see cref="ArgumentException"/> for text that is not a link, <see cref="ParleyException"/>
    /// INVALID_INVITE for a wrong, revoked or replaced link, TOO_LARGE when the group is full.
    /// </summary>
    public async Task<GroupJoinResult> JoinGroupAsync(string link, CancellationToken cancellationToken = default)
    {
        if (!GroupInviteLink.TryParse(link, out var id, out var secret))
        {
            throw new ArgumentException($"Not a group invite link (they start with {GroupInviteLink.Scheme}).", nameof(link));
        }
        RequireEncryption();
        var join = new JoinGroup { GroupId = ByteString.CopyFrom(id), Secret = ByteString.CopyFrom(secret) };
        var answer = await _connection.RequestAsync(() => new ClientFrame { JoinGroup = join.Clone() }, cancellationToken);
        var idText = GroupConversation.IdText(id);
        if (answer.BodyCase == ServerFrame.BodyOneofCase.GroupJoinPending)
        {
            return new GroupJoinResult(idText, Pending: true, null);
        }
        ApplyGroupState(answer.GroupState);
        return new GroupJoinResult(idText, Pending: false, _store.FindGroup(id));
    }

    /// <summary>The users waiting for an admin to answer their join request, oldest first (admins only; others get an empty list).</summary>
    public async Task<IReadOnlyList<string>> GetJoinRequestsAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var id = RequireGroupId(groupId);
        var answer = await _connection.RequestAsync(() => new ClientFrame { GetGroup = new GetGroup { GroupId = ByteString.CopyFrom(id) } }, cancellationToken);
        ApplyGroupState(answer.GroupState);
        return [.. answer.GroupState.Requests.Where(UserName.IsValid)];
    }

    /// <summary>
    /// Lets <paramref name="user"/> in (admins only; NOT_FOUND when it has not asked) and sends it the
    /// group's title (returns once the server has it). Returns the group after the change.
    /// </summary>
    public async Task<GroupInfo> ApproveJoinRequestAsync(string groupId, string user, CancellationToken cancellationToken = default)
    {
        var info = await AnswerJoinRequestAsync(groupId, user, approve: true, cancellationToken);
        if (info.Title.Length > 0)
        {
            await WaitUntilSentAsync(QueueGroupDetails(RequireGroupId(groupId), info.Title, _options.Time.GetUtcNow().ToUnixTimeMilliseconds()), cancellationToken);
        }
        return info;
    }

    /// <summary>Turns <paramref name="user"/>'s join request away (admins only); it is told so.</summary>
    public Task<GroupInfo> DenyJoinRequestAsync(string groupId, string user, CancellationToken cancellationToken = default) =>
        AnswerJoinRequestAsync(groupId, user, approve: false, cancellationToken);

    private async Task<GroupInfo> AnswerJoinRequestAsync(string groupId, string user, bool approve, CancellationToken cancellationToken)
    {
        var id = RequireGroupId(groupId);
        if (!UserName.IsValid(user))
        {
            throw new ArgumentException($"\"{user}\" is not a user name: {UserName.Rules}.", nameof(user));
        }
        var request = new AnswerJoinRequest { GroupId = ByteString.CopyFrom(id), User = user, Approve = approve };
        var answer = await _connection.RequestAsync(() => new ClientFrame { AnswerJoin = request.Clone() }, cancellationToken);
        ApplyGroupState(answer.GroupState);
        return _store.FindGroup(id)!;
    }

    /// <summary>
    /// A join request or a denial (called for GROUP_CHANGE notices that leave the membership as it
    /// is): nothing is stored, the event tells the admins (and the requester of a denial).
    /// </summary>
    private void OnJoinRequestNotice(Envelope envelope, GroupChange change)
    {
        var id = envelope.GroupId.ToByteArray();
        var group = _store.FindGroup(id) ?? new GroupInfo(GroupConversation.IdText(id), "", 0, IsMember: false, []);
        var kind = change.Kind == GroupChangeKind.GroupJoinRequest ? "join_request" : "join_denied";
        Raise(GroupChanged, new GroupChangedEventArgs(group, change.Actor, kind, [.. change.Users.Where(UserName.IsValid)]));
    }

    /// <summary>After a GROUP_JOIN by link that names this device as welcomer: the joiner gets the title.</summary>
    private void WelcomeJoiner(GroupChange change, byte[] id)
    {
        if (change.Kind == GroupChangeKind.GroupJoin && change.Welcomer == Me && change.WelcomerDevice == Credentials.DeviceId &&
            _store.FindGroup(id) is { IsMember: true, Title.Length: > 0 } group)
        {
            _welcomes.Enqueue(QueueGroupDetails(id, group.Title, _options.Time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
    }
}
