namespace Parley.Client.Storage;

// The messages of each conversation in store order and its unread count, kept beside the rows as they
// change, so that the chat list and a page of a conversation cost what they return, not a pass over
// every stored message (a browser holding 5,000 messages filtered and sorted them all for each).
internal sealed partial class KeyValueClientStore
{
    private readonly Dictionary<string, ConversationIndex> _conversations = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, string> _unshown = [];

    public IReadOnlyList<StoredMessage> ConversationBefore(string peer, byte[] id, int limit)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            if (!_conversations.TryGetValue(peer, out var conversation))
            {
                return [];
            }
            // The id names one message of the conversation (the same id from two senders would be two messages: the first counts).
            var before = conversation.Messages.Where(m => _messages.Rows[m.Key].Id.AsSpan().SequenceEqual(id)).Select(m => (long?)m.Order).FirstOrDefault();
            return before is { } order ? Page(peer, order, limit) : [];
        }
    }

    public IReadOnlyList<StoredMessage> Unread(string peer)
    {
        lock (_gate)
        {
            return _conversations.TryGetValue(peer, out var conversation) && conversation.Unread > 0
                ? [.. conversation.Messages.Select(m => _messages.Rows[m.Key]).Where(IsUnread).Select(m => m.ToStored())]
                : [];
        }
    }

    // The last `limit` messages of `peer` before store order `before`, oldest first. Under _gate.
    private List<StoredMessage> Page(string peer, long before, int limit)
    {
        if (limit <= 0 || !_conversations.TryGetValue(peer, out var conversation) || conversation.Messages.Count == 0 || before <= conversation.Messages.Min.Order)
        {
            return [];
        }
        var page = conversation.Messages.GetViewBetween((long.MinValue, ""), (before - 1, "\uffff")).Reverse().Take(limit).ToList();
        page.Reverse();
        return [.. page.Select(m => _messages.Rows[m.Key].ToStored())];
    }

    // Follows every change of a message row (Table.Changed): load, insert, status, shown, undo.
    private void IndexMessage(string key, MessageRow? old, MessageRow? row)
    {
        if (old is not null)
        {
            var conversation = _conversations[old.Peer];
            conversation.Messages.Remove((old.Order, key));
            conversation.Unread -= IsUnread(old) ? 1 : 0;
            if (!old.Shown)
            {
                _unshown.Remove(old.Order);
            }
        }
        if (row is not null)
        {
            if (!_conversations.TryGetValue(row.Peer, out var conversation))
            {
                conversation = new ConversationIndex();
                _conversations[row.Peer] = conversation;
            }
            conversation.Messages.Add((row.Order, key));
            conversation.Unread += IsUnread(row) ? 1 : 0;
            if (!row.Shown)
            {
                _unshown[row.Order] = key;
            }
        }
    }

    private static bool IsUnread(MessageRow m) => m.Direction == MessageDirection.Incoming && m.Status < MessageStatus.Read;

    private sealed class ConversationIndex
    {
        public SortedSet<(long Order, string Key)> Messages { get; } = [];

        public int Unread { get; set; }
    }
}
