namespace Parley.Client.Sync;

/// <summary>One chat of the chat list: a 1:1 conversation or a group, with its last message and how much of it is unread.</summary>
/// <param name="Conversation">The peer's user name, or <c>#</c> and the group id for a group (as <see cref="StoredMessage.Peer"/>).</param>
/// <param name="GroupId">The group id (32 hex characters) for a group, else null.</param>
/// <param name="Title">What to show: the group's title when this device knows it, else <paramref name="Conversation"/>.</param>
/// <param name="LastMessage">The most recent message stored in the conversation (either direction).</param>
/// <param name="UnreadCount">Messages from others in the conversation not read on any device of this account (as far as this device knows).</param>
public sealed record ConversationSummary(string Conversation, string? GroupId, string Title, StoredMessage LastMessage, int UnreadCount);
