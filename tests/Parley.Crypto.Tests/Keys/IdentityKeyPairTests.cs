using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Keys;

public class IdentityKeyPairTests
{
    [Fact]
    public void Identity_key_pair_round_trips_through_its_protobuf_structure()
    {
        var pair = IdentityKeyPair.Generate();
        var bytes = pair.Serialize();

        // IdentityKeyPairStructure: field 1 (0x0a) = 33-byte public key, field 2 (0x12) = 32-byte private key.
        Assert.Equal(0x0a, bytes[0]);
        Assert.Equal(33, bytes[1]);
        Assert.Equal(0x12, bytes[35]);
        Assert.Equal(32, bytes[36]);
        Assert.Equal(69, bytes.Length);

        var restored = IdentityKeyPair.Deserialize(bytes);
        Assert.Equal(pair.IdentityKey, restored.IdentityKey);
        Assert.Equal(pair.PrivateKey.Serialize(), restored.PrivateKey.Serialize());
        Assert.True(restored.IdentityKey.VerifySignature("x"u8, restored.CalculateSignature("x"u8)));
    }

    [Fact]
    public void Truncated_identity_key_pair_is_rejected()
    {
        var bytes = IdentityKeyPair.Generate().Serialize();
        Assert.Throws<InvalidKeyException>(() => IdentityKeyPair.Deserialize(bytes.AsSpan(0, 40)));
    }
}
