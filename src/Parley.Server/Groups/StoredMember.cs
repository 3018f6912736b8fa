using Parley.Protocol;

namespace Parley.Server.Groups;

/// <summary>One member of a group as stored: account id, role and when it joined (server unix milliseconds).</summary>
public sealed record StoredMember(long Account, GroupRole Role, long JoinedAt);
