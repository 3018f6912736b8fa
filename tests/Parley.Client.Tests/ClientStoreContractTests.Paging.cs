using Parley.Protocol;

namespace Parley.Client.Tests;

// Reading a conversation by pages, newest first, as a chat that loads older messages on scroll-up does
// (SQLite and key-value).
public abstract partial class ClientStoreContractTests
{
    [Fact]
    public void Pages_before_a_message_walk_a_conversation_back_to_its_first_message_after_reopening()
    {
        var ids = new List<byte[]>();
        for (var i = 0; i < 7; i++)
        {
            var id = MessageId.New();
            ids.Add(id);
            _store.InsertReceived(Incoming(id, "bob", $"m{i}"), id);
            var other = MessageId.New();
            _store.InsertReceived(Incoming(other, "carol", $"c{i}"), other);
        }
        var store = Reopen();

        var newest = store.Conversation("bob", 3);
        Assert.Equal(["m4", "m5", "m6"], newest.Select(m => m.Text));
        var older = store.ConversationBefore("bob", MessageId.Parse(newest[0].Id)!, 3);
        Assert.Equal(["m1", "m2", "m3"], older.Select(m => m.Text));
        var oldest = store.ConversationBefore("bob", MessageId.Parse(older[0].Id)!, 3);
        Assert.Equal(["m0"], oldest.Select(m => m.Text));
        Assert.Empty(store.ConversationBefore("bob", ids[0], 3));
    }

    [Fact]
    public void A_page_before_a_message_of_another_conversation_is_empty()
    {
        var bobs = MessageId.New();
        var carols = MessageId.New();
        _store.InsertReceived(Incoming(bobs, "bob", "to bob"), bobs);
        _store.InsertReceived(Incoming(carols, "carol", "to carol"), carols);
        Assert.Empty(_store.ConversationBefore("bob", carols, 10));
        Assert.Empty(_store.ConversationBefore("bob", MessageId.New(), 10));
    }

    [Fact]
    public void The_chat_list_follows_reads_and_forgets_a_failed_unit()
    {
        var a = MessageId.New();
        var b = MessageId.New();
        _store.InsertReceived(Incoming(a, "bob", "first"), a);
        _store.InsertReceived(Incoming(b, "bob", "second"), b);
        _store.Advance("bob", "bob", a, MessageStatus.Read);
        var late = MessageId.New();
        Assert.Throws<InvalidOperationException>(() => _store.Atomically<bool>(() =>
        {
            _store.InsertReceived(Incoming(late, "bob", "undone"), late);
            throw new InvalidOperationException("the decrypt failed after the write");
        }));

        var chat = Assert.Single(Reopen().ConversationSummaries());
        Assert.Equal(("bob", "second", 1), (chat.Conversation, chat.LastMessage.Text, chat.UnreadCount));
        Assert.Equal(("bob", "second", 1), _store.ConversationSummaries().Select(c => (c.Conversation, c.LastMessage.Text, c.UnreadCount)).Single());
    }

    [Fact]
    public void Unread_lists_every_incoming_message_not_yet_read_of_one_conversation()
    {
        var read = MessageId.New();
        var unread = MessageId.New();
        var other = MessageId.New();
        var mine = MessageId.New();
        _store.InsertReceived(Incoming(read, "bob", "read"), read);
        _store.InsertReceived(Incoming(unread, "bob", "unread"), unread);
        _store.InsertReceived(Incoming(other, "carol", "carol's"), other);
        _store.AddOutgoing(mine, "bob", "alice", 1, "mine", 1_700_000_000_002, [1]);
        _store.Advance("bob", "bob", read, MessageStatus.Read);

        Assert.Equal(["unread"], Reopen().Unread("bob").Select(m => m.Text));
        Assert.Empty(_store.Unread("dave"));
    }
}
