using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Tests.Ratchet;

public class ChainKeyTests
{
    // Vector from libsignal's chain key derivation test.
    private static readonly byte[] Seed = Convert.FromHexString("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f");
    private static readonly byte[] MessageKey = Convert.FromHexString("bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217");
    private static readonly byte[] MacKey = Convert.FromHexString("c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b");
    private static readonly byte[] NextChainKey = Convert.FromHexString("28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d");

    [Fact]
    public void Chain_key_derivation_matches_the_libsignal_vector()
    {
        var chainKey = new ChainKey(Seed, 0);
        var keys = chainKey.MessageKeys();

        Assert.Equal(MessageKey, keys.CipherKey);
        Assert.Equal(MacKey, keys.MacKey);
        Assert.Equal(16, keys.Iv.Length);
        Assert.Equal(0u, keys.Counter);
        Assert.Equal(NextChainKey, chainKey.Next().Key);
        Assert.Equal(1u, chainKey.Next().Index);
        Assert.Equal(1u, chainKey.Next().MessageKeys().Counter);
    }

    [Fact]
    public void Message_keys_from_a_stored_seed_equal_the_directly_derived_keys()
    {
        var chainKey = new ChainKey(Seed, 7);
        var direct = chainKey.MessageKeys();
        var fromSeed = MessageKeys.Derive(chainKey.MessageKeySeedBytes(), 7);

        Assert.Equal(direct.CipherKey, fromSeed.CipherKey);
        Assert.Equal(direct.MacKey, fromSeed.MacKey);
        Assert.Equal(direct.Iv, fromSeed.Iv);
    }
}
