using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client.Tests;

public sealed class ClientStoreTests : IDisposable
{
    private readonly TempProfile _profile = new();
    private readonly ClientStore _store;

    public ClientStoreTests() => _store = ClientStore.Open(_profile.Path);

    public void Dispose()
    {
        _store.Dispose();
        _profile.Dispose();
    }

    private static StoredMessage Incoming(byte[] id, string from, string text) =>
        new(MessageId.ToText(id), from, MessageDirection.Incoming, from, 1, text, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), MessageStatus.Delivered);

    [Fact]
    public void Credentials_survive_reopening_the_profile()
    {
        _store.SaveCredentials(new DeviceCredentialsProfile(new Uri("http://127.0.0.1:9/"), "alice", 2, "secret"));
        using var reopened = ClientStore.Open(_profile.Path);
        var creds = reopened.LoadCredentials();
        Assert.NotNull(creds);
        Assert.Equal(("alice", 2u, "secret"), (creds.User, creds.DeviceId, creds.Password));
        Assert.DoesNotContain("secret", creds.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Unregistered_profile_has_no_credentials() => Assert.Null(_store.LoadCredentials());

    [Fact]
    public void Redelivered_message_is_stored_once()
    {
        var id = MessageId.New();
        Assert.True(_store.InsertReceived(Incoming(id, "bob", "hi"), id));
        Assert.False(_store.InsertReceived(Incoming(id, "bob", "hi again"), id));
        var conversation = _store.Conversation("bob", 10);
        Assert.Single(conversation);
        Assert.Equal("hi", conversation[0].Text);
    }

    [Fact]
    public void Same_id_from_another_sender_does_not_hide_a_message()
    {
        var id = MessageId.New();
        Assert.True(_store.InsertReceived(Incoming(id, "bob", "from bob"), id));
        Assert.True(_store.InsertReceived(Incoming(id, "carol", "from carol"), id));
    }

    [Fact]
    public void Unshown_messages_are_taken_once_in_arrival_order()
    {
        var first = MessageId.New();
        var second = MessageId.New();
        _store.InsertReceived(Incoming(second, "bob", "one"), second);
        _store.InsertReceived(Incoming(first, "carol", "two"), first);
        Assert.Equal(["one", "two"], _store.TakeUnshown().Select(m => m.Text));
        Assert.Empty(_store.TakeUnshown());
        using var reopened = ClientStore.Open(_profile.Path);
        Assert.Empty(reopened.TakeUnshown());
    }

    [Fact]
    public void Outbox_hands_out_sends_oldest_first_until_completed()
    {
        var a = MessageId.New();
        var b = MessageId.New();
        _store.AddOutgoing(a, "bob", "alice", 1, "first", 1, [1]);
        _store.AddOutgoing(b, "bob", "alice", 1, "second", 2, [2]);
        Assert.Equal(a, _store.NextOutbox()!.Id);
        Assert.Equal(a, _store.NextOutbox()!.Id);
        Assert.True(_store.CompleteOutbox(a, "alice"));
        Assert.Equal(b, _store.NextOutbox()!.Id);
        Assert.Equal(MessageStatus.Sent, _store.Find(a)!.Status);
        Assert.Equal(MessageStatus.Pending, _store.Find(b)!.Status);
        Assert.Equal(1, _store.OutboxCount());
    }

    [Fact]
    public void Outbox_survives_reopening_the_profile()
    {
        var a = MessageId.New();
        _store.AddOutgoing(a, "bob", "alice", 1, "first", 1, [7, 8]);
        using var reopened = ClientStore.Open(_profile.Path);
        var entry = reopened.NextOutbox();
        Assert.NotNull(entry);
        Assert.Equal("bob", entry.Peer);
        Assert.Equal([7, 8], entry.Content);
    }

    [Fact]
    public void Status_never_moves_backwards()
    {
        var id = MessageId.New();
        _store.AddOutgoing(id, "bob", "alice", 1, "hi", 1, [1]);
        Assert.NotNull(_store.Advance("alice", "bob", id, MessageStatus.Read));
        Assert.Null(_store.Advance("alice", "bob", id, MessageStatus.Delivered));
        Assert.False(_store.CompleteOutbox(id, "alice"));
        Assert.Equal(MessageStatus.Read, _store.Find(id)!.Status);
    }

    [Fact]
    public void Receipt_from_another_conversation_does_not_move_a_message()
    {
        var id = MessageId.New();
        _store.AddOutgoing(id, "bob", "alice", 1, "hi", 1, [1]);
        Assert.Null(_store.Advance("alice", "mallory", id, MessageStatus.Read));
        Assert.Equal(MessageStatus.Pending, _store.Find(id)!.Status);
    }

    [Fact]
    public void Refused_send_leaves_the_outbox_and_is_marked_failed()
    {
        var id = MessageId.New();
        _store.AddOutgoing(id, "nobody", "alice", 1, "hi", 1, [1]);
        _store.FailOutbox(id, "alice");
        Assert.Null(_store.NextOutbox());
        Assert.Equal(MessageStatus.Failed, _store.Find(id)!.Status);
        Assert.Null(_store.Advance("alice", "nobody", id, MessageStatus.Delivered));
    }

    [Fact]
    public void Device_lists_are_cached_sorted_and_replaced()
    {
        Assert.Null(_store.CachedDevices("bob"));
        _store.CacheDevices("bob", [3, 1, 3]);
        Assert.Equal([1u, 3u], _store.CachedDevices("bob"));
        _store.CacheDevices("bob", [2]);
        Assert.Equal([2u], _store.CachedDevices("bob"));
    }

    [Fact]
    public void Conversation_returns_the_latest_messages_oldest_first()
    {
        for (var i = 0; i < 5; i++)
        {
            var id = MessageId.New();
            _store.InsertReceived(Incoming(id, "bob", $"m{i}"), id);
        }
        Assert.Equal(["m2", "m3", "m4"], _store.Conversation("bob", 3).Select(m => m.Text));
    }

    [Fact]
    public void Taking_one_conversation_leaves_the_others_unshown()
    {
        var a = MessageId.New();
        var b = MessageId.New();
        _store.InsertReceived(Incoming(a, "bob", "from bob"), a);
        _store.InsertReceived(Incoming(b, "carol", "from carol"), b);
        Assert.Equal(["from bob"], _store.TakeUnshown("bob").Select(m => m.Text));
        Assert.Equal(["from carol"], _store.TakeUnshown().Select(m => m.Text));
    }

    [Fact]
    public void Copies_of_own_sends_from_other_devices_are_unshown_but_this_devices_sends_are_not()
    {
        var mine = MessageId.New();
        _store.AddOutgoing(mine, "bob", "alice", 1, "from this device", 1_700_000_000_000, [1]);
        var copy = MessageId.New();
        var fromDesk = new StoredMessage(MessageId.ToText(copy), "bob", MessageDirection.Outgoing, "alice", 2, "from the desk",
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_001), MessageStatus.Sent);
        Assert.True(_store.InsertReceived(fromDesk, copy));

        var shown = Assert.Single(_store.TakeUnshown());
        Assert.Equal(("from the desk", MessageDirection.Outgoing, "bob"), (shown.Text, shown.Direction, shown.Peer));
        Assert.Empty(_store.TakeUnshown());
    }

    [Fact]
    public void Outbox_lists_its_ids_oldest_first_and_forgets_completed_ones()
    {
        var first = MessageId.New();
        var second = MessageId.New();
        _store.AddOutgoing(first, "bob", "alice", 1, "one", 1, [1]);
        _store.AddOutgoing(second, "bob", "alice", 1, "two", 2, [2]);
        Assert.Equal([first, second], _store.OutboxIds());
        Assert.True(_store.InOutbox(first));

        _store.CompleteOutbox(first, "alice");
        Assert.False(_store.InOutbox(first));
        Assert.Equal([second], _store.OutboxIds());
    }
}
