using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.Tests.Sessions;

namespace Parley.Crypto.Tests.Messages;

public class MessageFormatTests
{
    [Fact]
    public void Signal_message_is_version_byte_then_protobuf_then_eight_byte_mac()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var wire = alice.Encrypt(bob, "layout").Serialize();
        var parsed = SignalMessage.Deserialize(wire);

        Assert.Equal(0x44, wire[0]);
        Assert.Equal(0x0a, wire[1]); // field 1 (ratchet key), length-delimited
        Assert.Equal(33, wire[2]);
        Assert.Equal(0x05, wire[3]);
        Assert.Equal(4, parsed.MessageVersion);
        Assert.Equal(16, parsed.Body.Length); // "layout" padded to one AES block
        Assert.Equal(wire, parsed.Serialize());
        Assert.Equal(1 + 2 + 33 + 2 + 2 + 2 + 16 + SignalMessage.MacLength, wire.Length);
    }

    [Fact]
    public void Signal_message_fields_round_trip()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        alice.Encrypt(bob, "one");
        var message = (SignalMessage)alice.Encrypt(bob, "two");
        var parsed = SignalMessage.Deserialize(message.Serialize());

        Assert.Equal(message.Counter, parsed.Counter);
        Assert.Equal(1u, parsed.Counter);
        Assert.Equal(message.PreviousCounter, parsed.PreviousCounter);
        Assert.Equal(message.SenderRatchetKey, parsed.SenderRatchetKey);
        Assert.Equal(message.Body.ToArray(), parsed.Body.ToArray());
        Assert.Equal(CiphertextMessageType.Whisper, parsed.Type);
    }

    [Fact]
    public void PreKey_message_fields_round_trip()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle();
        alice.StartSessionWith(bob, bundle);
        var wire = alice.Encrypt(bob, "hello").Serialize();
        var parsed = PreKeySignalMessage.Deserialize(wire);

        Assert.Equal(CiphertextMessageType.PreKey, parsed.Type);
        Assert.Equal(alice.RegistrationId, parsed.RegistrationId);
        Assert.Equal(bundle.PreKeyId, parsed.PreKeyId);
        Assert.Equal(bundle.SignedPreKeyId, parsed.SignedPreKeyId);
        Assert.Equal(bundle.KyberPreKeyId, parsed.KyberPreKeyId);
        Assert.Equal(1569, parsed.KyberCiphertext!.Length);
        Assert.Equal(alice.Identity.IdentityKey, parsed.IdentityKey);
        Assert.Equal(0u, parsed.Message.Counter);
        Assert.Equal(wire, parsed.Serialize());
    }

    [Theory]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("2400000000000000000000")]
    [InlineData("54000000000000000000000000")]
    public void Unsupported_versions_and_short_inputs_are_invalid_messages(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.Throws<InvalidMessageException>(() => SignalMessage.Deserialize(bytes));
        Assert.Throws<InvalidMessageException>(() => PreKeySignalMessage.Deserialize(bytes));
    }

    [Fact]
    public void Version_4_prekey_message_without_kyber_fields_is_invalid()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(kem: null));
        var wire = alice.Encrypt(bob, "x").Serialize();
        Assert.Equal(0x34, wire[0]);

        wire[0] = 0x44; // claims PQXDH but carries no Kyber ciphertext
        Assert.Throws<InvalidMessageException>(() => PreKeySignalMessage.Deserialize(wire));
    }

    [Fact]
    public void Signal_message_with_a_bad_ratchet_key_is_invalid()
    {
        // version, field 1 with a 2-byte "key", counter, ciphertext, 8-byte MAC
        var bytes = Convert.FromHexString("44" + "0a020501" + "1000" + "220100" + "0000000000000000");
        Assert.Throws<InvalidMessageException>(() => SignalMessage.Deserialize(bytes));
    }

    [Fact]
    public void Signal_message_without_a_counter_is_invalid()
    {
        var key = EcKeyPair.Generate().PublicKey.Serialize();
        var bytes = Convert.FromHexString("44" + "0a21" + Convert.ToHexString(key) + "220100" + "0000000000000000");
        Assert.Throws<InvalidMessageException>(() => SignalMessage.Deserialize(bytes));
    }

    [Fact]
    public void Typed_parse_and_decrypt_handle_both_kinds_of_session_message()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        var first = alice.Encrypt(bob, "first");
        var parsedFirst = CiphertextMessage.Deserialize(first.Type, first.Serialize());
        Assert.IsType<PreKeySignalMessage>(parsedFirst);
        Assert.Equal("first"u8.ToArray(), bob.CipherFor(alice).Decrypt(parsedFirst));

        var reply = bob.Encrypt(alice, "reply");
        var parsedReply = CiphertextMessage.Deserialize(reply.Type, reply.Serialize());
        Assert.IsType<SignalMessage>(parsedReply);
        Assert.Equal("reply"u8.ToArray(), alice.CipherFor(bob).Decrypt(parsedReply));

        Assert.Throws<InvalidMessageException>(() => CiphertextMessage.Deserialize(CiphertextMessageType.SenderKey, reply.Serialize()));
        Assert.ThrowsAny<InvalidMessageException>(() => CiphertextMessage.Deserialize(CiphertextMessageType.PreKey, reply.Serialize()));
    }
}
