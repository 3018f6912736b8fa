namespace Parley.Server.Groups;

/// <summary>
/// A group as stored: its internal row, its 16-byte public id, its version and its members, with
/// its invite link (if any) and the join requests waiting for an admin.
/// </summary>
public sealed record StoredGroup(long Row, byte[] Id, ulong Version, IReadOnlyList<StoredMember> Members)
{
    /// <summary>The group's live invite link, or null.</summary>
    public StoredInvite? Invite { get; init; }

    /// <summary>Join requests waiting for an admin.</summary>
    public IReadOnlyList<StoredJoinRequest> Requests { get; init; } = [];
}
