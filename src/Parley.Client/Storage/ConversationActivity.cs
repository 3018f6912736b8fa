namespace Parley.Client.Storage;

/// <summary>A conversation as the store sees it: its last message and its unread count (incoming, not read).</summary>
internal sealed record ConversationActivity(string Conversation, StoredMessage LastMessage, int UnreadCount);
