namespace Parley.Client.Storage;

// The history a linked device gets, read from SQLite (see IHistoryStore).
internal sealed partial class ClientStore
{
    public IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom)
    {
        lock (_gate)
        {
            return Query(null, "SELECT * FROM messages WHERE sent_at >= $from ORDER BY local_order", ("$from", sentAtFrom));
        }
    }
}
