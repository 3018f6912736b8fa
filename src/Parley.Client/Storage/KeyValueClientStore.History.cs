namespace Parley.Client.Storage;

// The history a linked device gets, read from key-value storage (see IHistoryStore).
internal sealed partial class KeyValueClientStore
{
    public IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom)
    {
        lock (_gate)
        {
            return [.. _messages.Rows.Values.Where(m => m.SentAt >= sentAtFrom).OrderBy(m => m.Order).Select(m => m.ToStored())];
        }
    }
}
