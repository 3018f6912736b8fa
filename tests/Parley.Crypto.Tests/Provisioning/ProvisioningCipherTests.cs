using Parley.Crypto.Keys;
using Parley.Crypto.Provisioning;

namespace Parley.Crypto.Tests.Provisioning;

public sealed class ProvisioningCipherTests
{
    [Fact]
    public void A_sealed_message_opens_only_with_the_recipient_key_and_any_altered_byte_is_refused()
    {
        var recipient = EcKeyPair.Generate();
        var plaintext = "credentials and keys"u8.ToArray();
        var sealedMessage = ProvisioningCipher.Seal(recipient.PublicKey, plaintext);

        Assert.Equal(plaintext, ProvisioningCipher.Open(recipient, sealedMessage));
        Assert.NotEqual(sealedMessage, ProvisioningCipher.Seal(recipient.PublicKey, plaintext)); // a fresh sender key and iv each time
        Assert.Throws<InvalidMacException>(() => ProvisioningCipher.Open(EcKeyPair.Generate(), sealedMessage));
        for (var i = 1; i < sealedMessage.Length; i += 7)
        {
            var altered = (byte[])sealedMessage.Clone();
            altered[i] ^= 0x01;
            Assert.ThrowsAny<CryptoException>(() => ProvisioningCipher.Open(recipient, altered));
        }
        Assert.Throws<InvalidMessageException>(() => ProvisioningCipher.Open(recipient, sealedMessage[..40]));
        var otherVersion = (byte[])sealedMessage.Clone();
        otherVersion[0] = 2;
        Assert.Throws<InvalidMessageException>(() => ProvisioningCipher.Open(recipient, otherVersion));
    }
}
