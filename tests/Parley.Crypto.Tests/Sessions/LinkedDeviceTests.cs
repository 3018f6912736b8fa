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

    [Theory]
    [InlineData("zero")]
    [InlineData("twisted")]
    [InlineData("above-prime")]
    public void PreKey_message_with_a_non_canonical_base_key_is_refused(string kind)
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(kem: null));
        var genuine = PreKeySignalMessage.Deserialize(alice.Encrypt(bob, "x").Serialize());

        var wire = genuine.Serialize();
        var baseKey = genuine.BaseKey.Serialize();
        int at = wire.AsSpan().IndexOf(baseKey) + 1;
        var p = System.Numerics.BigInteger.Pow(2, 255) - 19;
        var u = new System.Numerics.BigInteger(baseKey.AsSpan(1), isUnsigned: true);
        var replacement = kind switch
        {
            "zero" => System.Numerics.BigInteger.Zero, // order-2 point
            "twisted" => System.Numerics.BigInteger.ModPow(u, p - 2, p), // 1/u: the same point plus the order-2 point
            _ => u + p, // the same point, encoded non-canonically
        };
        var bytes = new byte[32];
        replacement.TryWriteBytes(bytes, out _, isUnsigned: true);
        bytes.CopyTo(wire, at);

        Assert.Throws<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.PreKey, wire));
        Assert.False(bob.Store.ContainsSession(alice.Address));
    }

    [Fact]
    public void Honest_keys_are_canonical()
    {
        for (int i = 0; i < 50; i++)
        {
            Assert.True(EcKeyPair.Generate().PublicKey.IsCanonical());
        }
    }
}
