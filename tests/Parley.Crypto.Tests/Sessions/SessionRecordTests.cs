using Parley.Crypto.Sessions;

namespace Parley.Crypto.Tests.Sessions;

public class SessionRecordTests
{
    [Fact]
    public void Record_with_archived_states_and_skipped_keys_round_trips_byte_for_byte()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        alice.Encrypt(bob, "skipped 1");
        alice.Encrypt(bob, "skipped 2");
        Assert.Equal("third", bob.Decrypt(alice, alice.Encrypt(bob, "third")));
        alice.StartSessionWith(bob, bob.CreateBundle());
        Assert.Equal("new", bob.Decrypt(alice, alice.Encrypt(bob, "new")));

        var record = bob.Store.LoadSession(alice.Address)!;
        var bytes = record.Serialize();
        var restored = SessionRecord.Deserialize(bytes);

        Assert.Equal(bytes, restored.Serialize());
        Assert.Equal(record.PreviousStateCount, restored.PreviousStateCount);
        Assert.Equal(1, restored.PreviousStateCount);
        Assert.Equal(2, restored.PreviousStates[0].ReceiverChains[^1].MessageKeys.Count);
        Assert.Equal(record.RemoteIdentityKey, restored.RemoteIdentityKey);
        Assert.Equal(record.RemoteRegistrationId, restored.RemoteRegistrationId);
        Assert.Equal(4u, restored.SessionVersion);
    }

    [Fact]
    public void Pending_prekey_state_survives_serialization_so_prekey_messages_continue()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        var restored = SessionRecord.Deserialize(alice.Store.LoadSession(bob.Address)!.Serialize());
        alice.Store.StoreSession(bob.Address, restored);

        var message = alice.Encrypt(bob, "after restore");
        Assert.Equal(Parley.Crypto.Messages.CiphertextMessageType.PreKey, message.Type);
        Assert.Equal("after restore", bob.Decrypt(alice, message));
    }

    [Fact]
    public void Archived_states_are_capped()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var record = alice.Store.LoadSession(bob.Address)!;
        for (int i = 0; i < ProtocolLimits.ArchivedStatesMaxLength + 5; i++)
        {
            record.ArchiveCurrentState();
            record.Current = record.PreviousStates[0].Clone();
        }

        Assert.Equal(ProtocolLimits.ArchivedStatesMaxLength, record.PreviousStateCount);
    }

    [Fact]
    public void Corrupt_record_bytes_are_an_invalid_session()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var bytes = alice.Store.LoadSession(bob.Address)!.Serialize();

        Assert.Throws<InvalidSessionException>(() => SessionRecord.Deserialize(bytes.AsSpan(0, bytes.Length / 2)));
        Assert.Throws<InvalidSessionException>(() => SessionRecord.Deserialize([0x0a, 0x02, 0x08, 0x03]));
    }

    [Fact]
    public void Empty_record_has_no_session()
    {
        var record = SessionRecord.Deserialize(new SessionRecord().Serialize());
        Assert.False(record.HasCurrentState);
        Assert.Throws<NoSessionException>(() => record.SessionVersion);
    }
}
