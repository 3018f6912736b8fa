namespace Parley.Server.Groups;

/// <summary>
/// A group's invite link as stored: the SHA-256 of its secret (never the secret), whether joins
/// wait for an admin's approval, the device key that made it, and when (server unix milliseconds).
/// </summary>
public sealed record StoredInvite(byte[] Hash, bool Approve, long CreatorDevice, long CreatedAt);
