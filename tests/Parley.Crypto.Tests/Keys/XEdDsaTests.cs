using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Keys;

public class XEdDsaTests
{
    // Vector from libsignal's curve25519 signature test: Alice's identity signs her serialized ephemeral key.
    private static readonly byte[] IdentityPrivate = Convert.FromHexString("c0972484" + "12e58bf05df487968205132794178e367637f5818f81e0e6ce73e865");
    private static readonly byte[] IdentityPublic = Convert.FromHexString("ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64");
    private static readonly byte[] EphemeralPublic = Convert.FromHexString("05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a");
    private static readonly byte[] Signature = Convert.FromHexString(
        "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfb" +
        "ede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88");

    [Fact]
    public void Libsignal_signature_vector_verifies()
    {
        var privateKey = EcPrivateKey.Deserialize(IdentityPrivate);
        Assert.Equal(IdentityPublic, privateKey.GetPublicKey().PublicKeyBytes.ToArray());

        var publicKey = EcPublicKey.FromPublicKeyBytes(IdentityPublic);
        Assert.True(publicKey.VerifySignature(EphemeralPublic, Signature));
        Assert.True(EcPublicKey.VerifySignature(publicKey, EphemeralPublic, Signature));
    }

    [Fact]
    public void Libsignal_signature_vector_fails_after_any_single_bit_flip()
    {
        var publicKey = EcPublicKey.FromPublicKeyBytes(IdentityPublic);
        for (int i = 0; i < Signature.Length; i++)
        {
            var copy = (byte[])Signature.Clone();
            copy[i] ^= 0x01;
            Assert.False(publicKey.VerifySignature(EphemeralPublic, copy), $"flip in byte {i} still verified");
        }
    }

    [Fact]
    public void Signature_round_trips_and_is_bound_to_message_and_key()
    {
        for (int i = 0; i < 30; i++)
        {
            var pair = EcKeyPair.Generate();
            var message = new byte[64];
            Random.Shared.NextBytes(message);

            var signature = pair.CalculateSignature(message);

            Assert.Equal(64, signature.Length);
            Assert.True(pair.PublicKey.VerifySignature(message, signature));
            message[0] ^= 1;
            Assert.False(pair.PublicKey.VerifySignature(message, signature));
            message[0] ^= 1;
            Assert.False(EcKeyPair.Generate().PublicKey.VerifySignature(message, signature));
        }
    }

    [Fact]
    public void Signing_is_randomized()
    {
        var pair = EcKeyPair.Generate();
        var message = "same message"u8.ToArray();

        Assert.NotEqual(pair.CalculateSignature(message), pair.CalculateSignature(message));
    }

    [Fact]
    public void Signature_of_wrong_length_is_rejected()
    {
        var pair = EcKeyPair.Generate();
        var signature = pair.CalculateSignature("m"u8);

        Assert.False(pair.PublicKey.VerifySignature("m"u8, signature.AsSpan(0, 63)));
        Assert.False(pair.PublicKey.VerifySignature("m"u8, []));
    }
}
