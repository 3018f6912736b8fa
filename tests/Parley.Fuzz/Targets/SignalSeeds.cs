using System.Text;
using Parley.Crypto;
using Parley.Crypto.Groups;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Fuzz.Targets;

/// <summary>Real wire messages made with the library's public API: the valid inputs the Signal parsers are fuzzed from.</summary>
public static class SignalSeeds
{
    private static readonly Lazy<Seeds> Made = new(Make);

    public static IReadOnlyList<byte[]> PreKeyMessages => Made.Value.PreKey;

    public static IReadOnlyList<byte[]> SignalMessages => Made.Value.Signal;

    public static IReadOnlyList<byte[]> SenderKeyMessages => Made.Value.SenderKey;

    public static IReadOnlyList<byte[]> DistributionMessages => Made.Value.Distribution;

    private sealed record Seeds(List<byte[]> PreKey, List<byte[]> Signal, List<byte[]> SenderKey, List<byte[]> Distribution);

    private static Seeds Make()
    {
        var seeds = new Seeds([], [], [], []);
        foreach (var (kem, oneTime) in new (KemKeyType?, bool)[] { (KemKeyType.Kyber1024, true), (KemKeyType.Kyber1024, false), (null, true) })
        {
            var alice = new Device("alice");
            var bob = new Device("bob");
            new SessionBuilder(alice.Store, bob.Address, TimeProvider.System).ProcessPreKeyBundle(bob.Bundle(kem, oneTime));
            var toBob = new SessionCipher(alice.Store, bob.Address, TimeProvider.System);
            var first = (PreKeySignalMessage)toBob.Encrypt(Encoding.UTF8.GetBytes("hello bob"));
            seeds.PreKey.Add(first.Serialize());
            seeds.Signal.Add(first.Message.Serialize());
            var fromAlice = new SessionCipher(bob.Store, alice.Address, TimeProvider.System);
            fromAlice.Decrypt(first);
            var reply = new SessionCipher(bob.Store, alice.Address, TimeProvider.System).Encrypt(new byte[300]);
            seeds.Signal.Add(reply.Serialize());
        }

        var group = Guid.Parse("0190f5a2-7000-7000-8000-0000000000aa");
        var sender = new ProtocolAddress("alice", 1);
        var store = new InMemorySenderKeyStore();
        seeds.Distribution.Add(new GroupSessionBuilder(store).Create(sender, group).Serialize());
        var cipher = new GroupCipher(store, sender);
        seeds.SenderKey.Add(cipher.Encrypt(group, Encoding.UTF8.GetBytes("hello group")).Serialize());
        seeds.SenderKey.Add(cipher.Encrypt(group, new byte[500]).Serialize());
        return seeds;
    }

    private sealed class Device
    {
        private readonly IdentityKeyPair _identity = IdentityKeyPair.Generate();
        private readonly uint _registrationId = RegistrationId.Generate();
        private uint _nextId = 1;

        public Device(string name)
        {
            Address = new ProtocolAddress(name, 1);
            Store = new InMemoryProtocolStore(_identity, _registrationId);
        }

        public ProtocolAddress Address { get; }

        public InMemoryProtocolStore Store { get; }

        public PreKeyBundle Bundle(KemKeyType? kem, bool oneTime)
        {
            var now = DateTimeOffset.UtcNow;
            var signed = SignedPreKeyRecord.Generate(_nextId++, _identity, now);
            Store.StoreSignedPreKey(signed.Id, signed);
            PreKeyRecord? preKey = oneTime ? PreKeyRecord.Generate(_nextId++) : null;
            if (preKey is not null)
            {
                Store.StorePreKey(preKey.Id, preKey);
            }
            KyberPreKeyRecord? kyber = kem is { } type ? KyberPreKeyRecord.Generate(_nextId++, _identity, now, type) : null;
            if (kyber is not null)
            {
                Store.StoreKyberPreKey(kyber.Id, kyber);
            }
            return new PreKeyBundle(_registrationId, Address.DeviceId, preKey?.Id, preKey?.KeyPair.PublicKey, signed.Id,
                signed.KeyPair.PublicKey, signed.Signature, _identity.IdentityKey, kyber?.Id, kyber?.KeyPair.PublicKey, kyber?.Signature.ToArray());
        }
    }
}
