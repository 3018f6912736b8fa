using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Tests.Sessions;

namespace Parley.Crypto.Tests.Messages;

/// <summary>Random and mutated inputs: every rejection must be one of the library's typed exceptions.</summary>
public class MalformedInputTests
{
    private static void OnlyTypedFailures(Action parse)
    {
        try
        {
            parse();
        }
        catch (CryptoException)
        {
            // expected kind of failure
        }
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(3))
        {
            case 0:
                for (int i = random.Next(1, 4); i > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length)];
            default:
                var longer = new byte[bytes.Length + random.Next(1, 16)];
                bytes.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(bytes.Length));
                return longer;
        }
    }

    [Fact]
    public void Random_and_mutated_wire_messages_fail_only_with_typed_exceptions()
    {
        var random = new Random(5);
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        var preKeyWire = alice.Encrypt(bob, "first").Serialize();
        var signalWire = PreKeySignalMessage.Deserialize(preKeyWire).Message.Serialize();

        for (int i = 0; i < 3000; i++)
        {
            var noise = new byte[random.Next(0, 200)];
            random.NextBytes(noise);
            OnlyTypedFailures(() => SignalMessage.Deserialize(noise));
            OnlyTypedFailures(() => PreKeySignalMessage.Deserialize(noise));
            OnlyTypedFailures(() => SignalMessage.Deserialize(Mutate(signalWire, random)));
            OnlyTypedFailures(() => PreKeySignalMessage.Deserialize(Mutate(preKeyWire, random)));
        }
    }

    [Fact]
    public void Mutated_prekey_messages_given_to_the_cipher_fail_only_with_typed_exceptions_and_change_nothing()
    {
        var random = new Random(6);
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle();
        alice.StartSessionWith(bob, bundle);
        var wire = alice.Encrypt(bob, "first").Serialize();
        var oneTimePreKey = bob.Store.LoadPreKey(bundle.PreKeyId!.Value)!;

        for (int i = 0; i < 150; i++)
        {
            var mutated = Mutate(wire, random);
            OnlyTypedFailures(() =>
            {
                if (bob.Decrypt(alice, CiphertextMessageType.PreKey, mutated) != "first")
                {
                    throw new InvalidOperationException("a mutated message decrypted to something else");
                }

                // A harmless mutation (an unknown trailing field) decrypted: undo its effects and go on.
                bob.Store.DeleteSession(alice.Address);
                bob.Store.StorePreKey(oneTimePreKey.Id, oneTimePreKey);
            });
        }

        Assert.Equal("first", bob.Decrypt(alice, CiphertextMessageType.PreKey, wire));
    }

    [Fact]
    public void Random_and_mutated_stored_records_fail_only_with_typed_exceptions()
    {
        var random = new Random(7);
        var (alice, bob) = TestDevice.EstablishedPair();
        alice.Encrypt(bob, "skip");
        Assert.Equal("x", bob.Decrypt(alice, alice.Encrypt(bob, "x")));
        var record = bob.Store.LoadSession(alice.Address)!.Serialize();
        var identity = bob.Identity.Serialize();
        var kyber = KyberPreKeyRecord.Generate(1, bob.Identity, DateTimeOffset.UnixEpoch).Serialize();

        for (int i = 0; i < 2000; i++)
        {
            OnlyTypedFailures(() => SessionRecord.Deserialize(Mutate(record, random)));
            OnlyTypedFailures(() => IdentityKeyPair.Deserialize(Mutate(identity, random)));
            OnlyTypedFailures(() => KyberPreKeyRecord.Deserialize(Mutate(kyber, random)));
            var noise = new byte[random.Next(0, 100)];
            random.NextBytes(noise);
            OnlyTypedFailures(() => SessionRecord.Deserialize(noise));
        }
    }
}
