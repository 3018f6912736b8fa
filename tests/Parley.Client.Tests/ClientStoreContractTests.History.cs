using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client.Tests;

// What every client store gives an approving device to send as history, and keeps on a new device
// of the history it has still to import (SQLite and key-value).
public abstract partial class ClientStoreContractTests
{
    [Fact]
    public void Messages_since_a_time_come_in_stored_order_with_their_status_and_leave_out_older_ones()
    {
        StoredMessage At(byte[] id, string from, string text, long sentAt) => Incoming(id, from, text) with { SentAt = DateTimeOffset.FromUnixTimeMilliseconds(sentAt) };
        var old = MessageId.New();
        var late = MessageId.New();
        var early = MessageId.New();
        var mine = MessageId.New();
        _store.InsertReceived(At(old, "bob", "old", 1_000), old);
        _store.InsertReceived(At(late, "bob", "written later, stored first", 5_000), late);
        _store.InsertReceived(At(early, "carol", "written earlier, stored next", 3_000), early);
        _store.AddOutgoing(mine, "bob", "alice", 1, "mine", 4_000, [1]);
        _store.CompleteOutbox(mine, "alice");

        var since = Reopen().MessagesSince(2_000);
        Assert.Equal(
            new[] { ("written later, stored first", MessageStatus.Delivered), ("written earlier, stored next", MessageStatus.Delivered), ("mine", MessageStatus.Sent) },
            since.Select(m => (m.Text, m.Status)));
        Assert.Empty(_store.MessagesSince(6_000));
    }

    [Fact]
    public void History_stored_at_its_own_orders_goes_before_what_was_stored_earlier_and_after_a_reopen_new_messages_still_go_last()
    {
        static byte[] Store(IClientStore store, string text, long? order = null)
        {
            var id = MessageId.New();
            Assert.True(store.InsertReceived(Incoming(id, "bob", text), id, order));
            return id;
        }
        // Only history so far (its first chunk): the reopened store must not hand out orders inside
        // history's range, where a later chunk still goes.
        var first = Store(_store, "history 1", -2_000);
        var store = Reopen();
        var live = Store(store, "live");
        // The next chunk, imported late, at orders below everything the store handed out itself; once only.
        var second = Store(store, "history 2", -1_000);
        Assert.False(store.InsertReceived(Incoming(second, "bob", "history 2"), second, -1_000));
        Assert.False(store.InsertReceived(Incoming(first, "bob", "history 1"), first, -2_000));
        Store(store, "later");

        Assert.Equal(["history 1", "history 2", "live", "later"], store.Conversation("bob", 10).Select(m => m.Text));
        Assert.Equal(["history 1", "history 2", "live", "later"], store.MessagesSince(0).Select(m => m.Text));
        Assert.Equal(["history 1", "history 2"], store.ConversationBefore("bob", live, 10).Select(m => m.Text));
        Assert.Equal(["history 1", "history 2", "live", "later"], store.TakeUnshown("bob").Select(m => m.Text));
    }

    [Fact]
    public void Pending_history_survives_reopening_in_order_and_each_completed_chunk_leaves_it_once()
    {
        Assert.Null(_store.PendingHistory());
        _store.SavePendingHistory([[1, 1], [2, 2], [3, 3]], 7);

        var saved = Reopen().PendingHistory();
        Assert.NotNull(saved);
        Assert.Equal([1, 2, 3], saved.Chunks.Select(c => c.Number));
        Assert.Equal([[1, 1], [2, 2], [3, 3]], saved.Chunks.Select(c => c.Pointer));
        Assert.Equal((3, 7, 0), (saved.ChunkCount, saved.MessageCount, saved.MessagesDone));

        var id = MessageId.New();
        _store.Atomically(() =>
        {
            _store.InsertReceived(Incoming(id, "bob", "from chunk 2"), id);
            _store.CompletePendingHistoryChunk(2, 3);
            return true;
        });
        // A chunk taken off already (imported twice) counts nothing twice.
        _store.CompletePendingHistoryChunk(2, 3);
        var afterOne = Reopen().PendingHistory();
        Assert.NotNull(afterOne);
        Assert.Equal([1, 3], afterOne.Chunks.Select(c => c.Number));
        Assert.Equal((3, 7, 3), (afterOne.ChunkCount, afterOne.MessageCount, afterOne.MessagesDone));
        Assert.Equal(["from chunk 2"], _store.Conversation("bob", 10).Select(m => m.Text));

        _store.CompletePendingHistoryChunk(1, 0); // dropped unimported
        Assert.Equal((3, 3), (_store.PendingHistory()!.Chunks.Single().Number, _store.PendingHistory()!.MessagesDone));
        _store.CompletePendingHistoryChunk(3, 4);
        Assert.Null(_store.PendingHistory());
        Assert.Null(Reopen().PendingHistory());
    }

    [Fact]
    public void A_chunk_whose_unit_fails_stays_pending_without_its_messages_and_imported_again_stores_them_once()
    {
        _store.SavePendingHistory([[1], [2]], 2);
        var id = MessageId.New();
        Assert.Throws<InvalidOperationException>(() => _store.Atomically<bool>(() =>
        {
            _store.InsertReceived(Incoming(id, "bob", "history"), id);
            _store.CompletePendingHistoryChunk(1, 1);
            throw new InvalidOperationException("killed before the commit");
        }));
        var reopened = Reopen();
        Assert.Equal([1, 2], reopened.PendingHistory()!.Chunks.Select(c => c.Number));
        Assert.Empty(reopened.Conversation("bob", 10));

        // The chunk's messages stored before, as a chunk imported twice would find them: no second copy.
        Assert.True(_store.InsertReceived(Incoming(id, "bob", "history"), id));
        _store.Atomically(() =>
        {
            var stored = _store.InsertReceived(Incoming(id, "bob", "history"), id);
            _store.CompletePendingHistoryChunk(1, 1);
            return stored;
        });
        Assert.Equal(["history"], Reopen().Conversation("bob", 10).Select(m => m.Text));
        var pending = _store.PendingHistory()!;
        Assert.Equal([2], pending.Chunks.Select(c => c.Number));
        Assert.Equal(1, pending.MessagesDone);
    }

    [Fact]
    public void Saving_pending_history_again_replaces_the_earlier_one()
    {
        _store.SavePendingHistory([[1], [2]], 5);
        _store.CompletePendingHistoryChunk(1, 2);
        _store.SavePendingHistory([[9]], 1);
        var pending = Reopen().PendingHistory();
        Assert.NotNull(pending);
        Assert.Equal([1], pending.Chunks.Select(c => c.Number));
        Assert.Equal([[9]], pending.Chunks.Select(c => c.Pointer));
        Assert.Equal((1, 1, 0), (pending.ChunkCount, pending.MessageCount, pending.MessagesDone));
    }
}
