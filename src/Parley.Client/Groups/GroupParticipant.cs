namespace Parley.Client.Groups;

/// <summary>One member of a group as the server last said: user, role and when they joined (server time).</summary>
/// <param name="User">The member's user name.</param>
/// <param name="IsAdmin">Whether the member may add, remove, promote and demote.</param>
/// <param name="JoinedAt">When the member joined; the longest-standing member is promoted when the last admin leaves.</param>
public sealed record GroupParticipant(string User, bool IsAdmin, DateTimeOffset JoinedAt);
