using Parley.Crypto.Keys;
using Parley.Crypto.Messages;

namespace Parley.Crypto.Tests.Sessions;

public class LinkedDeviceTests
{
    [Fact]
    public void Devices_of_one_account_sharing_an_identity_may_jump_past_the_forward_bound()
    {
        // Linked devices share the account identity, so their session is a session with self.
        var identity = IdentityKeyPair.Generate();
        var phone = new TestDevice("alice", 1, identity: identity);
        var laptop = new TestDevice("alice", 2, identity: identity);
        phone.StartSessionWith(laptop, laptop.CreateBundle());
        Assert.Equal("sync", laptop.Decrypt(phone, phone.Encrypt(laptop, "sync")));
        Assert.Equal("ack", phone.Decrypt(laptop, laptop.Encrypt(phone, "ack")));

        var record = phone.Store.LoadSession(laptop.Address)!;
        var state = record.Current!;
        var chainKey = state.Sender!.ChainKey;
        for (int i = 0; i < ProtocolLimits.MaxForwardJumps + 10; i++)
        {
            chainKey = chainKey.Next();
        }

        state.Sender = state.Sender with { ChainKey = chainKey };
        phone.Store.StoreSession(laptop.Address, record);

        Assert.Equal("after a long offline spell", laptop.Decrypt(phone, phone.Encrypt(laptop, "after a long offline spell")));
    }

    [Fact]
    public void Sessions_are_kept_per_device_and_listed_for_the_account()
    {
        var alice = new TestDevice("alice");
        var bobPhone = new TestDevice("bob", 1);
        var bobLaptop = new TestDevice("bob", 2, identity: bobPhone.Identity);
        alice.StartSessionWith(bobPhone, bobPhone.CreateBundle());
        alice.StartSessionWith(bobLaptop, bobLaptop.CreateBundle());

        Assert.Equal("to phone", bobPhone.Decrypt(alice, alice.Encrypt(bobPhone, "to phone")));
        Assert.Equal("to laptop", bobLaptop.Decrypt(alice, alice.Encrypt(bobLaptop, "to laptop")));
        Assert.Equal([2u], alice.Store.GetSubDeviceSessions("bob"));

        alice.Store.DeleteAllSessions("bob");
        Assert.False(alice.Store.ContainsSession(bobPhone.Address));
        Assert.False(alice.Store.ContainsSession(bobLaptop.Address));
    }

    [Fact]
    public void PreKey_message_with_a_low_order_base_key_is_refused()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(kem: null));
        var genuine = PreKeySignalMessage.Deserialize(alice.Encrypt(bob, "x").Serialize());

        // Rebuild the message with the all-zero (small-order) point as base key.
        var wire = genuine.Serialize();
        var baseKey = genuine.BaseKey.Serialize();
        int at = wire.AsSpan().IndexOf(baseKey);
        wire.AsSpan(at + 1, 32).Clear();

        Assert.Throws<InvalidKeyException>(() => bob.Decrypt(alice, CiphertextMessageType.PreKey, wire));
        Assert.False(bob.Store.ContainsSession(alice.Address));
    }
}
