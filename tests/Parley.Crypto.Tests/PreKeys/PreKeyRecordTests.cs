using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;

namespace Parley.Crypto.Tests.PreKeys;

public class PreKeyRecordTests
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);

    [Fact]
    public void One_time_prekey_record_round_trips()
    {
        var record = PreKeyRecord.Generate(42);
        var restored = PreKeyRecord.Deserialize(record.Serialize());

        Assert.Equal(42u, restored.Id);
        Assert.Equal(record.KeyPair.PublicKey, restored.KeyPair.PublicKey);
        Assert.Equal(record.KeyPair.PrivateKey.Serialize(), restored.KeyPair.PrivateKey.Serialize());
    }

    [Fact]
    public void Signed_prekey_is_signed_by_the_identity_and_round_trips()
    {
        var identity = IdentityKeyPair.Generate();
        var record = SignedPreKeyRecord.Generate(7, identity, Created);

        Assert.True(identity.IdentityKey.VerifySignature(record.KeyPair.PublicKey.Serialize(), record.Signature));
        var restored = SignedPreKeyRecord.Deserialize(record.Serialize());
        Assert.Equal(7u, restored.Id);
        Assert.Equal(1_700_000_000_123ul, restored.TimestampMilliseconds);
        Assert.Equal(record.Signature.ToArray(), restored.Signature.ToArray());
        Assert.Equal(record.KeyPair.PublicKey, restored.KeyPair.PublicKey);
    }

    [Fact]
    public void Kyber_prekey_signature_covers_the_type_byte_and_record_round_trips()
    {
        var identity = IdentityKeyPair.Generate();
        var record = KyberPreKeyRecord.Generate(9, identity, Created);
        var serializedPublic = record.KeyPair.PublicKey.Serialize();

        Assert.Equal(0x08, serializedPublic[0]);
        Assert.True(identity.IdentityKey.VerifySignature(serializedPublic, record.Signature));
        Assert.False(identity.IdentityKey.VerifySignature(serializedPublic.AsSpan(1), record.Signature));

        var restored = KyberPreKeyRecord.Deserialize(record.Serialize());
        Assert.Equal(9u, restored.Id);
        Assert.Equal(record.KeyPair.PublicKey, restored.KeyPair.PublicKey);
        var encapsulation = restored.KeyPair.PublicKey.Encapsulate();
        Assert.Equal(encapsulation.SharedSecret, record.KeyPair.SecretKey.Decapsulate(encapsulation.Ciphertext));
    }

    [Fact]
    public void Corrupt_prekey_record_is_an_invalid_key()
    {
        var bytes = SignedPreKeyRecord.Generate(1, IdentityKeyPair.Generate(), Created).Serialize();
        Assert.Throws<InvalidKeyException>(() => SignedPreKeyRecord.Deserialize(bytes.AsSpan(0, bytes.Length - 20)));
        Assert.Throws<InvalidKeyException>(() => PreKeyRecord.Deserialize([0x08, 0x01]));
    }

    [Fact]
    public void Registration_ids_are_fourteen_bit_and_never_zero()
    {
        for (int i = 0; i < 2000; i++)
        {
            var id = RegistrationId.Generate();
            Assert.InRange(id, 1u, RegistrationId.MaxValue);
        }
    }

    [Fact]
    public void Bundle_signatures_verify_and_a_bundle_signed_by_another_identity_does_not()
    {
        var identity = IdentityKeyPair.Generate();
        var signed = SignedPreKeyRecord.Generate(1, identity, Created);
        var kyber = KyberPreKeyRecord.Generate(2, identity, Created);

        var bundle = new PreKeyBundle(5, 1, null, null, signed.Id, signed.KeyPair.PublicKey, signed.Signature, identity.IdentityKey,
            kyber.Id, kyber.KeyPair.PublicKey, kyber.Signature.ToArray());
        bundle.VerifySignatures();

        var impostor = new PreKeyBundle(5, 1, null, null, signed.Id, signed.KeyPair.PublicKey, signed.Signature, IdentityKeyPair.Generate().IdentityKey,
            kyber.Id, kyber.KeyPair.PublicKey, kyber.Signature.ToArray());
        Assert.Throws<InvalidSignatureException>(impostor.VerifySignatures);
    }
}
