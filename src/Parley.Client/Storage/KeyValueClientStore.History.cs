using System.Globalization;
using Parley.Client.History;

namespace Parley.Client.Storage;

// The history a linked device gets, read from key-value storage, and on the new device the part of
// it still to import (see IHistoryStore): one row per pending chunk, the bundle's counts in config.
internal sealed partial class KeyValueClientStore
{
    private const string HistoryChunksKey = "pending_history_chunks";
    private const string HistoryMessagesKey = "pending_history_messages";
    private const string HistoryMessagesDoneKey = "pending_history_messages_done";

    private readonly Table<PendingHistoryRow> _pendingHistory = new("pending_history");

    public IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom)
    {
        lock (_gate)
        {
            return [.. _messages.Rows.Values.Where(m => m.SentAt >= sentAtFrom).OrderBy(m => m.Order).Select(m => m.ToStored())];
        }
    }

    public void SavePendingHistory(IReadOnlyList<byte[]> chunks, int messages)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        Atomically(() =>
        {
            foreach (var key in _pendingHistory.Rows.Keys.ToList())
            {
                Set(_pendingHistory, key, null);
            }
            for (var i = 0; i < chunks.Count; i++)
            {
                Set(_pendingHistory, Number(i + 1), new PendingHistoryRow(i + 1, chunks[i]));
            }
            Set(_config, HistoryChunksKey, Number(chunks.Count));
            Set(_config, HistoryMessagesKey, Number(messages));
            Set(_config, HistoryMessagesDoneKey, "0");
            return true;
        });
    }

    public PendingHistory? PendingHistory()
    {
        lock (_gate)
        {
            if (_pendingHistory.Rows.Count == 0)
            {
                return null;
            }
            return new PendingHistory([.. _pendingHistory.Rows.Values.OrderBy(r => r.Number).Select(r => new PendingHistoryChunk(r.Number, r.Pointer))],
                ConfigNumber(HistoryChunksKey), ConfigNumber(HistoryMessagesKey), ConfigNumber(HistoryMessagesDoneKey));
        }
    }

    public void CompletePendingHistoryChunk(int number, int messages) => Atomically(() =>
    {
        if (!_pendingHistory.Rows.ContainsKey(Number(number)))
        {
            return false;
        }
        Set(_pendingHistory, Number(number), null);
        if (_pendingHistory.Rows.Count == 0)
        {
            Set(_config, HistoryChunksKey, null);
            Set(_config, HistoryMessagesKey, null);
            Set(_config, HistoryMessagesDoneKey, null);
        }
        else
        {
            Set(_config, HistoryMessagesDoneKey, Number(ConfigNumber(HistoryMessagesDoneKey) + messages));
        }
        return true;
    });

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private int ConfigNumber(string key) => Get(_config, key) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : 0;

    private sealed record PendingHistoryRow(int Number, byte[] Pointer);
}
