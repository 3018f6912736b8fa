using Parley.Protocol;

namespace Parley.Client.Tests;

// What every client store gives an approving device to send as history (SQLite and key-value).
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
}
