using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>
/// The rules every client store keeps, run against each implementation: SQLite (CLI, desktop) and
/// the key-value store of the browser (over an in-memory persistence here, IndexedDB there).
/// "Reopening" is what a restart or a reload does: a new store over what the old one persisted.
/// </summary>
public abstract class ClientStoreContractTests : IDisposable
{
    private readonly List<IClientStore> _opened = [];
    private readonly IClientStore _store;

    protected ClientStoreContractTests() => _store = Track(OpenStore());

    /// <summary>Opens the store over this test's backing (the same backing on every call).</summary>
    private protected abstract IClientStore OpenStore();

    public void Dispose()
    {
        foreach (var store in _opened)
        {
            store.Dispose();
        }
        DisposeBacking();
        GC.SuppressFinalize(this);
    }

    protected virtual void DisposeBacking()
    {
    }

    private IClientStore Track(IClientStore store)
    {
        _opened.Add(store);
        return store;
    }

    private IClientStore Reopen()
    {
        _store.FlushAsync().GetAwaiter().GetResult();
        return Track(OpenStore());
    }

    private static StoredMessage Incoming(byte[] id, string from, string text) =>
        new(MessageId.ToText(id), from, MessageDirection.Incoming, from, 1, text, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), MessageStatus.Delivered);

    [Fact]
    public void Credentials_survive_reopening_the_profile()
    {
        _store.SaveCredentials(new DeviceCredentialsProfile(new Uri("http://127.0.0.1:9/"), "alice", 2, "secret"));
        var reopened = Reopen();
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
        var reopened = Reopen();
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
        var reopened = Reopen();
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

    [Fact]
    public void A_peer_identity_change_is_reported_once_and_blocks_sends_only_when_verified()
    {
        var bob = new ProtocolAddress("bob", 1);
        var first = IdentityKeyPair.Generate().IdentityKey;
        var second = IdentityKeyPair.Generate().IdentityKey;
        Assert.False(_store.SaveIdentity(bob, first));
        Assert.Empty(_store.TakeIdentityChanges());
        Assert.True(_store.MarkVerified("bob"));
        Assert.True(_store.IsVerified("bob"));

        Assert.True(_store.SaveIdentity(bob, second));
        Assert.Equal(["bob"], _store.TakeIdentityChanges());
        Assert.True(_store.IsBlockedByVerification("bob"));
        Assert.True(_store.IdentityChangedUnacknowledged("bob"));
        Assert.False(_store.IsTrustedIdentity(bob, second, Direction.Sending));
        Assert.True(_store.IsTrustedIdentity(bob, second, Direction.Receiving));

        var reopened = Reopen();
        Assert.True(reopened.IsBlockedByVerification("bob"));
        Assert.True(reopened.AcceptIdentity("bob"));
        Assert.False(reopened.IsBlockedByVerification("bob"));
        Assert.Equal(second.Serialize(), reopened.PeerIdentity("bob")!.Serialize());
        Assert.Equal(second.Serialize(), reopened.GetIdentity(bob)!.Serialize());
    }

    [Fact]
    public void Own_identity_prekeys_and_key_ids_survive_reopening()
    {
        var identity = IdentityKeyPair.Generate();
        _store.SaveOwnIdentity(identity, 4242);
        Assert.Equal(1u, _store.NextKeyId("ec", 100));
        Assert.Equal(101u, _store.NextKeyId("ec", 1));
        _store.AddPreKeys([PreKeyRecord.Generate(7)]);
        var signed = SignedPreKeyRecord.Generate(3, identity, DateTimeOffset.FromUnixTimeMilliseconds(1_000));
        _store.AddSignedPreKey(signed, 1_000, 0);
        _store.AddKyberPreKeys([KyberPreKeyRecord.Generate(9, identity, DateTimeOffset.FromUnixTimeMilliseconds(1_000))], lastResort: true, 1_000);
        _store.AddKyberPreKeys([KyberPreKeyRecord.Generate(10, identity, DateTimeOffset.FromUnixTimeMilliseconds(1_000))], lastResort: false, 1_000);

        var reopened = Reopen();
        Assert.True(reopened.HasIdentity());
        Assert.Equal(identity.Serialize(), reopened.GetIdentityKeyPair().Serialize());
        Assert.Equal(4242u, reopened.GetLocalRegistrationId());
        Assert.Equal(102u, reopened.NextKeyId("ec", 1));
        Assert.True(reopened.ContainsPreKey(7));
        Assert.Equal(3u, reopened.NewestSignedPreKeyId());
        Assert.Equal(1_000, reopened.NewestSignedPreKeyTime());
        Assert.True(reopened.HasKyberLastResort());
        reopened.MarkKyberPreKeyUsed(9);
        reopened.MarkKyberPreKeyUsed(10);
        Assert.True(reopened.ContainsKyberPreKey(9)); // the last-resort key stays
        Assert.False(reopened.ContainsKyberPreKey(10));
        reopened.RemovePreKey(7);
        Assert.Null(reopened.LoadPreKey(7));
    }

    [Fact]
    public void Old_signed_prekeys_are_forgotten_except_the_newest()
    {
        var identity = IdentityKeyPair.Generate();
        _store.AddSignedPreKey(SignedPreKeyRecord.Generate(1, identity, DateTimeOffset.FromUnixTimeMilliseconds(1_000)), 1_000, 0);
        _store.AddSignedPreKey(SignedPreKeyRecord.Generate(2, identity, DateTimeOffset.FromUnixTimeMilliseconds(2_000)), 2_000, 0);
        _store.AddSignedPreKey(SignedPreKeyRecord.Generate(3, identity, DateTimeOffset.FromUnixTimeMilliseconds(3_000)), 3_000, 2_500);
        Assert.Equal([3u], _store.LoadSignedPreKeys().Select(k => k.Id));
    }

    [Fact]
    public void Sessions_are_kept_per_device_and_deleted_per_user()
    {
        var record = new SessionRecord();
        _store.StoreSession(new ProtocolAddress("bob", 1), record);
        _store.StoreSession(new ProtocolAddress("bob", 3), record);
        _store.StoreSession(new ProtocolAddress("bob", 2), record);
        _store.StoreSession(new ProtocolAddress("carol", 2), record);
        Assert.Equal([2u, 3u], _store.GetSubDeviceSessions("bob"));
        Assert.NotNull(Reopen().LoadSession(new ProtocolAddress("bob", 3)));

        _store.DeleteAllSessions("bob");
        Assert.Null(_store.LoadSession(new ProtocolAddress("bob", 1)));
        Assert.Empty(_store.GetSubDeviceSessions("bob"));
        Assert.Equal([2u], _store.GetSubDeviceSessions("carol"));
    }

    [Fact]
    public void A_failed_atomic_unit_leaves_nothing_behind()
    {
        var id = MessageId.New();
        Assert.Throws<InvalidOperationException>(() => _store.Atomically<bool>(() =>
        {
            _store.InsertReceived(Incoming(id, "bob", "half"), id);
            _store.StorePreKey(5, PreKeyRecord.Generate(5));
            throw new InvalidOperationException("the decrypt failed after the writes");
        }));
        Assert.Null(_store.Find(id));
        Assert.False(_store.ContainsPreKey(5));
        var reopened = Reopen();
        Assert.Null(reopened.Find(id));
        Assert.False(reopened.ContainsPreKey(5));

        Assert.True(_store.Atomically(() => _store.InsertReceived(Incoming(id, "bob", "whole"), id)));
        Assert.Equal("whole", Reopen().Find(id)!.Text);
    }

    [Fact]
    public void Recent_sends_are_bounded_and_remember_where_each_went()
    {
        var a = MessageId.New();
        var b = MessageId.New();
        var c = MessageId.New();
        _store.RememberSent(a, "bob", 100, [1], [("bob", 1, [9])], forgetBefore: 0, keep: 2);
        _store.RememberSent(b, "bob", 200, [2], [("bob", 2, [8])], forgetBefore: 0, keep: 2);
        Assert.Equal([9], _store.SentIdentity(a, "bob", 1)!);
        Assert.Null(_store.SentIdentity(a, "bob", 2));

        _store.RememberSent(c, "bob", 300, [3], [("bob", 1, [7])], forgetBefore: 150, keep: 2);
        var reopened = Reopen();
        Assert.Null(reopened.FindSent(a));
        Assert.Null(reopened.SentIdentity(a, "bob", 1));
        Assert.Equal(("bob", 200L), (reopened.FindSent(b)!.Value.Peer, reopened.FindSent(b)!.Value.SentAt));
        Assert.Equal([3], reopened.FindSent(c)!.Value.Content);
    }

    [Fact]
    public void Resends_and_retry_requests_wait_in_the_outbox_with_their_targets()
    {
        var original = MessageId.New();
        var resend = MessageId.New();
        var retry = MessageId.New();
        _store.AddResend(resend, original, "bob", 10, [4], "bob", 2, [6]);
        _store.AddRetryRequest(retry, "carol", 11);

        var reopened = Reopen();
        Assert.Equal([resend, retry], reopened.OutboxIds());
        Assert.Equal(original, reopened.ResendOriginal(resend));
        Assert.Equal(("bob", 2u), (reopened.ResendTarget(resend)!.Value.User, reopened.ResendTarget(resend)!.Value.Device));
        Assert.True(reopened.IsRetryRequest(retry));
        Assert.False(reopened.IsRetryRequest(resend));
        Assert.Equal(resend, reopened.NextOutbox()!.Id);
    }

    [Fact]
    public void Uploads_and_attachments_survive_reopening()
    {
        var id = MessageId.New();
        _store.SaveUpload(new Media.UploadState("bob", "/tmp/cat.jpg", id, 10, 20, [1, 2], null, 0, null));
        _store.SaveUpload(new Media.UploadState("bob", "/tmp/cat.jpg", id, 10, 20, [1, 2], [3], 48, "/media/abc"));
        _store.AddAttachment("bob", id, [5, 5], null);
        _store.SetAttachmentPath("bob", id, "/home/cat.jpg");

        var reopened = Reopen();
        var upload = reopened.FindUpload("bob", "/tmp/cat.jpg");
        Assert.NotNull(upload);
        Assert.Equal(("/media/abc", 48L), (upload.Location, upload.BlobLength));
        Assert.Equal(("bob", "/home/cat.jpg"), (reopened.FindAttachment(id)!.Value.Sender, reopened.FindAttachment(id)!.Value.SavedPath));
        reopened.DeleteUpload("bob", "/tmp/cat.jpg");
        Assert.Null(reopened.FindUpload("bob", "/tmp/cat.jpg"));
    }
}
