using Parley.Client.Groups;

namespace Parley.Web.Session;

// A group chat: the same messages, unread count and ticks as a 1:1 chat (its Peer is '#' and the
// group id), plus the group as this device last knew it.
public sealed partial class Conversation
{
    /// <summary>For a group chat, the group as this device last knew it (title, members, roles); null for a 1:1 chat or before the group is known.</summary>
    public GroupInfo? Group { get; set; }

    /// <summary>True for a group chat.</summary>
    public bool IsGroup => GroupConversation.IsGroup(Peer);

    /// <summary>The group id (32 hex characters) of a group chat; null for a 1:1 chat.</summary>
    public string? GroupId => IsGroup ? Peer[1..] : null;

    /// <summary>What the chat is called: the peer, or the group's title ("Group" until a member's title arrives).</summary>
    public string Title => !IsGroup ? Peer : Group?.Title is { Length: > 0 } title ? title : "Group";

    /// <summary>In a group chat, who is typing now (null when nobody, or in a 1:1 chat).</summary>
    public string? TypingUser { get; set; }
}
