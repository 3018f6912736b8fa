using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Keys;

public class Curve25519Tests
{
    // Vectors from libsignal's curve25519 tests.
    private static readonly byte[] AlicePublic = Convert.FromHexString("1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28");
    private static readonly byte[] AlicePrivate = Convert.FromHexString("c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59");
    private static readonly byte[] BobPublic = Convert.FromHexString("653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f");
    private static readonly byte[] BobPrivate = Convert.FromHexString("b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466");
    private static readonly byte[] Shared = Convert.FromHexString("325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629");

    [Fact]
    public void X25519_agreement_matches_the_libsignal_vector_from_both_sides()
    {
        var alice = EcPrivateKey.Deserialize(AlicePrivate);
        var bob = EcPrivateKey.Deserialize(BobPrivate);

        Assert.Equal(AlicePublic, alice.GetPublicKey().PublicKeyBytes.ToArray());
        Assert.Equal(BobPublic, bob.GetPublicKey().PublicKeyBytes.ToArray());
        Assert.Equal(Shared, alice.CalculateAgreement(EcPublicKey.FromPublicKeyBytes(BobPublic)));
        Assert.Equal(Shared, bob.CalculateAgreement(EcPublicKey.FromPublicKeyBytes(AlicePublic)));
    }

    [Fact]
    public void Random_key_pairs_agree_on_the_same_secret()
    {
        for (int i = 0; i < 20; i++)
        {
            var a = EcKeyPair.Generate();
            var b = EcKeyPair.Generate();
            Assert.Equal(a.CalculateAgreement(b.PublicKey), b.CalculateAgreement(a.PublicKey));
        }
    }

    [Fact]
    public void Agreement_with_a_low_order_point_is_refused()
    {
        var zeroPoint = EcPublicKey.FromPublicKeyBytes(new byte[32]);
        Assert.Throws<InvalidKeyException>(() => EcKeyPair.Generate().CalculateAgreement(zeroPoint));
    }

    [Fact]
    public void Public_key_serializes_with_type_byte_and_round_trips()
    {
        var key = EcKeyPair.Generate().PublicKey;
        var serialized = key.Serialize();

        Assert.Equal(33, serialized.Length);
        Assert.Equal(0x05, serialized[0]);
        Assert.Equal(key, EcPublicKey.Deserialize(serialized));
        Assert.True(key == EcPublicKey.Deserialize(serialized));
        Assert.Equal(key.GetHashCode(), EcPublicKey.Deserialize(serialized).GetHashCode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("06653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f")]
    [InlineData("05653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a2")]
    [InlineData("05653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f00")]
    public void Public_key_with_bad_type_or_length_is_rejected(string hex)
    {
        Assert.Throws<InvalidKeyException>(() => EcPublicKey.Deserialize(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Private_key_is_clamped_on_load_and_has_wrong_lengths_rejected()
    {
        var raw = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        var loaded = EcPrivateKey.Deserialize(raw).Serialize();

        Assert.Equal(0xF8, loaded[0]);
        Assert.Equal(0x7F, loaded[31]);
        Assert.Throws<InvalidKeyException>(() => EcPrivateKey.Deserialize(new byte[31]));
    }

    [Fact]
    public void ToString_never_shows_private_key_material()
    {
        var pair = EcKeyPair.Generate();
        var scalarHex = Convert.ToHexStringLower(pair.PrivateKey.Serialize());
        var identity = new IdentityKeyPair(new IdentityKey(pair.PublicKey), pair.PrivateKey);

        Assert.DoesNotContain(scalarHex, pair.PrivateKey.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(scalarHex, pair.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(scalarHex, identity.ToString(), StringComparison.Ordinal);
    }
}
