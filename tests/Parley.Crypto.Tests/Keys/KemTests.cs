using Org.BouncyCastle.Crypto.Digests;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Keys;

public class KemTests
{
    [Theory]
    [InlineData(KemKeyType.Kyber1024)]
    [InlineData(KemKeyType.MlKem1024)]
    public void Encapsulated_secret_is_recovered_by_the_secret_key(KemKeyType type)
    {
        var pair = KemKeyPair.Generate(type);
        var encapsulation = pair.PublicKey.Encapsulate();

        Assert.Equal(32, encapsulation.SharedSecret.Length);
        Assert.Equal(1569, encapsulation.Ciphertext.Length);
        Assert.Equal((byte)type, encapsulation.Ciphertext[0]);
        Assert.Equal(encapsulation.SharedSecret, pair.SecretKey.Decapsulate(encapsulation.Ciphertext));
    }

    [Theory]
    [InlineData(KemKeyType.Kyber1024, 0x08)]
    [InlineData(KemKeyType.MlKem1024, 0x0A)]
    public void Keys_serialize_with_libsignal_type_byte_and_round_trip(KemKeyType type, byte typeByte)
    {
        var pair = KemKeyPair.Generate(type);
        var publicBytes = pair.PublicKey.Serialize();
        var secretBytes = pair.SecretKey.Serialize();

        Assert.Equal(typeByte, publicBytes[0]);
        Assert.Equal(1569, publicBytes.Length);
        Assert.Equal(typeByte, secretBytes[0]);
        Assert.Equal(3169, secretBytes.Length);

        var restored = KemKeyPair.FromSerialized(publicBytes, secretBytes);
        Assert.Equal(pair.PublicKey, restored.PublicKey);
        var encapsulation = restored.PublicKey.Encapsulate();
        Assert.Equal(encapsulation.SharedSecret, pair.SecretKey.Decapsulate(encapsulation.Ciphertext));
    }

    [Fact]
    public void Kyber_tampered_ciphertext_yields_round3_implicit_rejection_secret()
    {
        var pair = KemKeyPair.Generate(KemKeyType.Kyber1024);
        var encapsulation = pair.PublicKey.Encapsulate();
        var tampered = (byte[])encapsulation.Ciphertext.Clone();
        tampered[100] ^= 0x01;

        var secret = pair.SecretKey.Decapsulate(tampered);

        // Round-3 Kyber rejects with SHAKE-256(z ‖ SHA3-256(c)), z being the last 32 bytes of the secret key.
        var secretKey = pair.SecretKey.Serialize();
        var z = secretKey.AsSpan(secretKey.Length - 32);
        var ciphertextHash = new byte[32];
        var sha3 = new Sha3Digest(256);
        sha3.BlockUpdate(tampered.AsSpan(1));
        sha3.DoFinal(ciphertextHash);
        var expected = new byte[32];
        var shake = new ShakeDigest(256);
        shake.BlockUpdate(z);
        shake.BlockUpdate(ciphertextHash);
        shake.OutputFinal(expected);

        Assert.Equal(expected, secret);
        Assert.NotEqual(encapsulation.SharedSecret, secret);
    }

    [Fact]
    public void Ciphertext_of_another_kem_type_is_rejected()
    {
        var kyber = KemKeyPair.Generate(KemKeyType.Kyber1024);
        var mlkem = KemKeyPair.Generate(KemKeyType.MlKem1024);

        Assert.Throws<InvalidMessageException>(() => kyber.SecretKey.Decapsulate(mlkem.PublicKey.Encapsulate().Ciphertext));
        Assert.Throws<InvalidMessageException>(() => kyber.SecretKey.Decapsulate(new byte[100]));
    }

    [Fact]
    public void Unknown_kem_type_or_length_is_rejected()
    {
        var bytes = KemKeyPair.Generate().PublicKey.Serialize();
        bytes[0] = 0x07;
        Assert.Throws<InvalidKeyException>(() => KemPublicKey.Deserialize(bytes));
        Assert.Throws<InvalidKeyException>(() => KemPublicKey.Deserialize(bytes.AsSpan(0, 100)));
        Assert.Throws<InvalidKeyException>(() => KemPublicKey.Deserialize([]));
    }

    [Fact]
    public void Public_key_with_out_of_range_coefficients_is_an_invalid_key()
    {
        var bytes = new byte[1569];
        bytes.AsSpan().Fill(0xFF);
        bytes[0] = (byte)KemKeyType.Kyber1024;

        Assert.Throws<InvalidKeyException>(() => KemPublicKey.Deserialize(bytes).Encapsulate());
    }
}
