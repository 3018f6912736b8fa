using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Tests.Sessions;

/// <summary>One device with real in-memory stores, able to publish bundles and talk to another device.</summary>
internal sealed class TestDevice
{
    private uint _nextKeyId = 1;

    public TestDevice(string name, uint deviceId = 1, TimeProvider? time = null, IdentityKeyPair? identity = null)
    {
        Address = new ProtocolAddress(name, deviceId);
        Identity = identity ?? IdentityKeyPair.Generate();
        RegistrationId = Parley.Crypto.PreKeys.RegistrationId.Generate();
        Store = new InMemoryProtocolStore(Identity, RegistrationId);
        Time = time ?? TimeProvider.System;
    }

    public ProtocolAddress Address { get; }

    public IdentityKeyPair Identity { get; }

    public uint RegistrationId { get; }

    public InMemoryProtocolStore Store { get; set; }

    public TimeProvider Time { get; }

    /// <summary>Generates and stores fresh prekeys and returns the bundle a server would hand out.</summary>
    public PreKeyBundle CreateBundle(bool oneTimePreKey = true, KemKeyType? kem = KemKeyType.Kyber1024)
    {
        var signed = SignedPreKeyRecord.Generate(_nextKeyId++, Identity, Time.GetUtcNow());
        Store.StoreSignedPreKey(signed.Id, signed);

        PreKeyRecord? preKey = null;
        if (oneTimePreKey)
        {
            preKey = PreKeyRecord.Generate(_nextKeyId++);
            Store.StorePreKey(preKey.Id, preKey);
        }

        KyberPreKeyRecord? kyber = null;
        if (kem is { } kemType)
        {
            kyber = KyberPreKeyRecord.Generate(_nextKeyId++, Identity, Time.GetUtcNow(), kemType);
            Store.StoreKyberPreKey(kyber.Id, kyber);
        }

        return new PreKeyBundle(
            RegistrationId,
            Address.DeviceId,
            preKey?.Id,
            preKey?.KeyPair.PublicKey,
            signed.Id,
            signed.KeyPair.PublicKey,
            signed.Signature,
            Identity.IdentityKey,
            kyber?.Id,
            kyber?.KeyPair.PublicKey,
            kyber?.Signature.ToArray());
    }

    public void StartSessionWith(TestDevice other, PreKeyBundle bundle) =>
        new SessionBuilder(Store, other.Address, Time).ProcessPreKeyBundle(bundle);

    public SessionCipher CipherFor(TestDevice other) => new(Store, other.Address, Time);

    public CiphertextMessage Encrypt(TestDevice to, string text) =>
        CipherFor(to).Encrypt(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Decrypts wire bytes as the receiving app would: by the message type carried alongside.</summary>
    public string Decrypt(TestDevice from, CiphertextMessageType type, byte[] wire)
    {
        var cipher = CipherFor(from);
        var plaintext = type switch
        {
            CiphertextMessageType.PreKey => cipher.Decrypt(PreKeySignalMessage.Deserialize(wire)),
            CiphertextMessageType.Whisper => cipher.Decrypt(SignalMessage.Deserialize(wire)),
            _ => throw new InvalidOperationException($"unexpected type {type}"),
        };
        return System.Text.Encoding.UTF8.GetString(plaintext);
    }

    public string Decrypt(TestDevice from, CiphertextMessage message) => Decrypt(from, message.Type, message.Serialize());

    /// <summary>Alice fetches Bob's bundle and the two exchange one message each, so both have an acknowledged session.</summary>
    public static (TestDevice Alice, TestDevice Bob) EstablishedPair(KemKeyType? kem = KemKeyType.Kyber1024)
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(kem: kem));
        Assert.Equal("hello bob", bob.Decrypt(alice, alice.Encrypt(bob, "hello bob")));
        Assert.Equal("hello alice", alice.Decrypt(bob, bob.Encrypt(alice, "hello alice")));
        return (alice, bob);
    }
}
