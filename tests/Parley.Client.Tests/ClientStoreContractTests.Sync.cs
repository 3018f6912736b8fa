using Parley.Client.Groups;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Tests;

// Sync rules every client store keeps (SQLite and key-value): the chat list with unread counts, and
// verified marks from another device applied only to the key known here.
public abstract partial class ClientStoreContractTests
{
    [Fact]
    public void The_chat_list_has_each_conversation_once_latest_first_with_its_last_message_and_unread_count()
    {
        var group = GroupConversation.Of(Group);
        var fromBob = MessageId.New();
        var readFromBob = MessageId.New();
        _store.InsertReceived(Incoming(readFromBob, "bob", "old news"), readFromBob);
        _store.InsertReceived(Incoming(fromBob, "bob", "hello"), fromBob);
        _store.AddOutgoing(MessageId.New(), "carol", "alice", 1, "to carol", 2, [1]);
        var inGroup = MessageId.New();
        _store.InsertReceived(new StoredMessage(MessageId.ToText(inGroup), group, MessageDirection.Incoming, "dave", 1, "in the group",
            DateTimeOffset.FromUnixTimeMilliseconds(3), MessageStatus.Delivered), inGroup);
        _store.Advance("bob", "bob", readFromBob, MessageStatus.Read);

        var chats = Reopen().ConversationSummaries();

        Assert.Equal([group, "carol", "bob"], chats.Select(c => c.Conversation));
        Assert.Equal(["in the group", "to carol", "hello"], chats.Select(c => c.LastMessage.Text));
        Assert.Equal([1, 0, 1], chats.Select(c => c.UnreadCount));
    }

    [Fact]
    public void A_verified_mark_from_another_device_applies_to_the_known_key_only()
    {
        var known = IdentityKeyPair.Generate().IdentityKey;
        var other = IdentityKeyPair.Generate().IdentityKey;
        _store.TrustList("bob", SignedLists.Verified(SignedLists.Sign(IdentityKeyPair.Generate(), "bob", 1, (1, known)), "bob"), isPeer: true);
        var bobKey = _store.PeerIdentity("bob")!;

        Assert.False(_store.ApplyVerifiedSync("bob", other.Serialize(), verified: true));
        Assert.False(_store.IsVerified("bob"));
        Assert.True(_store.ApplyVerifiedSync("bob", bobKey.Serialize(), verified: true));
        Assert.True(Reopen().IsVerified("bob"));
        Assert.True(_store.ApplyVerifiedSync("bob", bobKey.Serialize(), verified: false));
        Assert.False(Reopen().IsVerified("bob"));
    }

    [Fact]
    public void A_verified_mark_for_a_contact_not_known_here_makes_that_key_the_known_one()
    {
        var key = IdentityKeyPair.Generate().IdentityKey;

        Assert.True(_store.ApplyVerifiedSync("carol", key.Serialize(), verified: true));

        var reopened = Reopen();
        Assert.Equal(key, reopened.PeerIdentity("carol"));
        Assert.True(reopened.IsVerified("carol"));
        Assert.True(reopened.ApplyVerifiedSync("dave", key.Serialize(), verified: false));
        Assert.Null(reopened.PeerIdentity("dave"));
    }
}
