namespace Parley.Server.Groups;

/// <summary>One account's request to join a group by a link that needs approval, and when it asked (server unix milliseconds).</summary>
public sealed record StoredJoinRequest(long Account, long At);
