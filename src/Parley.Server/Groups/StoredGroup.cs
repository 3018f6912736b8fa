namespace Parley.Server.Groups;

/// <summary>A group as stored: its internal row, its 16-byte public id, its version and its members.</summary>
public sealed record StoredGroup(long Row, byte[] Id, ulong Version, IReadOnlyList<StoredMember> Members);
