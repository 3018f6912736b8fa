namespace Parley.Server.Groups;

/// <summary>
/// One change to one group's stored state: the version it now has, members inserted or updated,
/// members removed, and whether the group is gone (its last member left); and, for invite links,
/// the new link or its revocation, and join requests added or answered.
/// </summary>
public sealed record GroupWrite(long Row, byte[] Id, ulong Version, IReadOnlyList<StoredMember> Upserts, IReadOnlyList<long> Removed, bool Deleted)
{
    /// <summary>The group's new invite link (replacing any it had), or null.</summary>
    public StoredInvite? Invite { get; init; }

    /// <summary>Whether the group's link is revoked.</summary>
    public bool InviteRevoked { get; init; }

    /// <summary>Join requests made.</summary>
    public IReadOnlyList<StoredJoinRequest> RequestsAdded { get; init; } = [];

    /// <summary>Accounts whose join request is answered (or who joined another way).</summary>
    public IReadOnlyList<long> RequestsRemoved { get; init; } = [];
}
