using System.Text;
using Parley.Crypto.Groups;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Groups;

/// <summary>Fixed vectors produced by libsignal-client 0.103.0 (tests/interop's oracle).</summary>
public class SenderKeyMessageTests
{
    private static readonly Guid Distribution = Guid.Parse("c0ffee00-1234-4abc-8def-0123456789ab");

    private const string LibsignalDistribution = "330a10c0ffee0012344abc8def0123456789ab109dd2ac9c071800222021e4efd4a6dd24a54c273ead91553bf51f244801af44812878d42d1e7ff427d62a21054c40d5ecf4b84c8a048c83cfe5bc86a5d767e74ca26f25eb7868c05a484cd921";

    private static readonly (string Text, string Hex)[] LibsignalMessages =
    [
        ("first", "330a10c0ffee0012344abc8def0123456789ab109dd2ac9c071800221089100398b7176a985b97fae02df8151c07cfc0adfce520192527e1f1b80257fcd000cb8b1e3607d9d48065ef3fd97338f27de507f49c8c6e030ff3d42f93873554ad57248a1412cdeae0b76c6c3d228d"),
        ("", "330a10c0ffee0012344abc8def0123456789ab109dd2ac9c0718012210e996da0579f0c0c0ed81e6715c3dc3ee69465c2234d3064e0aca30bef9a0df57e28378b2a8af2c8d7cd08bcc8c87cd36f3f7580bde3948aa485167b279d51bb316790033f4a1a67ded502e1e8f4e7087"),
        ("third message, a bit longer than one AES block", "330a10c0ffee0012344abc8def0123456789ab109dd2ac9c0718022230cf18f7a7643494d18ae55b605ff87e82f0f7211803e7f80fb1ba0032934e1dc349ae9e3ce34df8bc5d3bc1d803d4e6abe8b7b7effceadd239faee7f6fecaecb9089ad324d20a7b783c97668b366042c431f2c2f1582d6f2b1e2a65006ef8c97b435d4b534309680b5d78e2d1d8b1cd8b"),
    ];

    // SenderKeyMessage(3, distribution, chain 0x1234567, iteration 42, ciphertext 00..ff) signed with private key a8 × 32.
    private const string FixedPublicKey = "05f4c4706c6189a1dd5a5f83ffb4d3cd4fecffd75e072c7dab9e3c7bea1c38e173";
    private const string FixedMessage = "330a10c0ffee0012344abc8def0123456789ab10e78a8d09182a221000112233445566778899aabbccddeeff75e2046e2193f57144cc5ae6c6a5f7b186ca3681d7a5b435741e985f5c77f10bf1eebd8b925e29a6870b77c6998f26d4ad157f2c601cb49ddde4154079d87b05";

    // SenderKeyDistributionMessage(3, distribution, chain 0x1234567, iteration 7, chain key 5c × 32, the public key above).
    private const string FixedDistribution = "330a10c0ffee0012344abc8def0123456789ab10e78a8d09180722205c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c2a2105f4c4706c6189a1dd5a5f83ffb4d3cd4fecffd75e072c7dab9e3c7bea1c38e173";

    [Fact]
    public void Group_messages_made_by_libsignal_decrypt_in_any_order()
    {
        var store = new InMemorySenderKeyStore();
        var alice = new ProtocolAddress("alice", 1);
        new GroupSessionBuilder(store).Process(alice, SenderKeyDistributionMessage.Deserialize(Convert.FromHexString(LibsignalDistribution)));
        var cipher = new GroupCipher(store, alice);

        foreach (int i in new[] { 2, 0, 1 })
        {
            byte[] plaintext = cipher.Decrypt(Convert.FromHexString(LibsignalMessages[i].Hex));
            Assert.Equal(LibsignalMessages[i].Text, Encoding.UTF8.GetString(plaintext));
        }
    }

    [Fact]
    public void A_libsignal_message_parses_to_its_fields_and_its_signature_verifies()
    {
        var message = SenderKeyMessage.Deserialize(Convert.FromHexString(FixedMessage));
        var signer = EcPublicKey.Deserialize(Convert.FromHexString(FixedPublicKey));

        Assert.Equal(Distribution, message.DistributionId);
        Assert.Equal(0x1234567u, message.ChainId);
        Assert.Equal(42u, message.Iteration);
        Assert.Equal(Convert.FromHexString("00112233445566778899aabbccddeeff"), message.Ciphertext.ToArray());
        Assert.True(message.VerifySignature(signer));
        Assert.False(message.VerifySignature(EcKeyPair.Generate().PublicKey));
    }

    [Fact]
    public void Our_encoding_of_the_same_fields_is_byte_identical_to_libsignals()
    {
        var privateKey = EcPrivateKey.Deserialize(Enumerable.Repeat((byte)0xa8, 32).ToArray());
        Assert.Equal(FixedPublicKey, Convert.ToHexStringLower(privateKey.GetPublicKey().Serialize()));

        var distribution = SenderKeyDistributionMessage.Create(Distribution, 0x1234567, 7, Enumerable.Repeat((byte)0x5c, 32).ToArray(), privateKey.GetPublicKey());
        Assert.Equal(FixedDistribution, Convert.ToHexStringLower(distribution.Serialize()));

        byte[] ours = SenderKeyMessage.Create(Distribution, 0x1234567, 42, Convert.FromHexString("00112233445566778899aabbccddeeff"), privateKey).Serialize();
        byte[] theirs = Convert.FromHexString(FixedMessage);
        // XEdDSA signatures are randomized: the signed part is identical, and each signature verifies.
        Assert.Equal(theirs[..^64], ours[..^64]);
        Assert.True(SenderKeyMessage.Deserialize(ours).VerifySignature(privateKey.GetPublicKey()));
    }

    [Theory]
    [InlineData(0x23, "Legacy")]
    [InlineData(0x43, "Unknown")]
    public void A_message_of_another_version_is_refused(byte versionByte, string reason)
    {
        byte[] message = Convert.FromHexString(FixedMessage);
        message[0] = versionByte;
        byte[] distribution = Convert.FromHexString(FixedDistribution);
        distribution[0] = versionByte;

        Assert.Contains(reason, Assert.Throws<InvalidMessageException>(() => SenderKeyMessage.Deserialize(message)).Message, StringComparison.Ordinal);
        Assert.Contains(reason, Assert.Throws<InvalidMessageException>(() => SenderKeyDistributionMessage.Deserialize(distribution)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_or_garbled_messages_are_refused()
    {
        byte[] message = Convert.FromHexString(FixedMessage);
        byte[] distribution = Convert.FromHexString(FixedDistribution);

        Assert.Throws<InvalidMessageException>(() => SenderKeyMessage.Deserialize(message.AsSpan(0, 64)));
        Assert.Throws<InvalidMessageException>(() => SenderKeyDistributionMessage.Deserialize(distribution.AsSpan(0, 60)));
        Assert.Throws<InvalidMessageException>(() => SenderKeyDistributionMessage.Deserialize(distribution.AsSpan(0, distribution.Length - 1)));
        byte[] garbled = [0x33, .. Enumerable.Repeat((byte)0xff, 100)];
        Assert.Throws<InvalidMessageException>(() => SenderKeyMessage.Deserialize(garbled));
        Assert.Throws<InvalidMessageException>(() => SenderKeyDistributionMessage.Deserialize(garbled));
    }
}
