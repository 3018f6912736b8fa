namespace Parley.Client.Groups;

/// <summary>What joining by an invite link did.</summary>
/// <param name="GroupId">The group's id (32 hex characters).</param>
/// <param name="Pending">True when the link needs an admin's approval: the request waits; a GroupChanged event ("join" or "join_denied") tells the outcome.</param>
/// <param name="Group">The group once this account is a member; null while pending.</param>
public sealed record GroupJoinResult(string GroupId, bool Pending, GroupInfo? Group);
