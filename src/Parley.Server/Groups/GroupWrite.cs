namespace Parley.Server.Groups;

/// <summary>
/// One change to one group's stored state: the version it now has, members inserted or updated,
/// members removed, and whether the group is gone (its last member left).
/// </summary>
public sealed record GroupWrite(long Row, byte[] Id, ulong Version, IReadOnlyList<StoredMember> Upserts, IReadOnlyList<long> Removed, bool Deleted);
