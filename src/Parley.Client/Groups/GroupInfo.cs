namespace Parley.Client.Groups;

/// <summary>
/// A group as this device knows it: members and roles from the server (the newest version seen),
/// the title from the members' end-to-end encrypted group-state messages (the server never has it).
/// </summary>
/// <param name="Id">The group id: 32 lower-case hex characters (128 random bits chosen by the server).</param>
/// <param name="Title">The title, or empty until a member's group-state message arrived.</param>
/// <param name="Version">The server's version of the membership; grows by one with every change.</param>
/// <param name="IsMember">False once this account left or was removed.</param>
/// <param name="Members">The members, longest-standing first.</param>
public sealed record GroupInfo(string Id, string Title, ulong Version, bool IsMember, IReadOnlyList<GroupParticipant> Members);
