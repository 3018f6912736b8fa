namespace Parley.Client.Groups;

/// <summary>A group's membership changed (a GROUP_CHANGE notice from the server) or its title changed (a member's group-state message).</summary>
public sealed class GroupChangedEventArgs(GroupInfo group, string actor, string change, IReadOnlyList<string> users) : EventArgs
{
    /// <summary>The group after the change.</summary>
    public GroupInfo Group { get; } = group;

    /// <summary>Who made the change.</summary>
    public string Actor { get; } = actor;

    /// <summary>What changed: create, add, remove, promote, demote, leave, join (by link), join_request (admins), join_denied, or title.</summary>
    public string Change { get; } = change;

    /// <summary>The members concerned (added, removed, promoted...); empty for a title.</summary>
    public IReadOnlyList<string> Users { get; } = users;
}
