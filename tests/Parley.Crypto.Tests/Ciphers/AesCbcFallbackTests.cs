using System.Security.Cryptography;
using Parley.Crypto.Attachments;
using Parley.Crypto.Ciphers;
using Parley.Crypto.Sessions;
using Parley.Crypto.Tests.Groups;

namespace Parley.Crypto.Tests.Ciphers;

/// <summary>
/// The browser has no platform AES, so there AesCbc runs BouncyCastle's engine chained by hand.
/// These tests force that path on .NET and hold it to the platform's bytes and libsignal's vectors.
/// </summary>
public class AesCbcFallbackTests
{
    public static TheoryData<int> Lengths => new() { 0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4096 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void The_managed_path_encrypts_to_the_platforms_bytes_and_each_decrypts_the_other(int length)
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        byte[] plaintext = RandomNumberGenerator.GetBytes(length);
        using var platform = Aes.Create();
        platform.Key = key;
        byte[] expected = platform.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);

        using (AesCbc.ForceManaged())
        {
            Assert.True(AesCbc.UsesManaged);
            using var managed = new AesCbc(key);
            Assert.Equal(expected, managed.EncryptPkcs7(plaintext, iv));
            Assert.Equal(plaintext, managed.DecryptPkcs7(expected, iv));
        }
        Assert.Equal(plaintext, platform.DecryptCbc(expected, iv, PaddingMode.PKCS7));
    }

    [Fact]
    public void Whole_blocks_chained_by_hand_match_one_platform_cbc_pass()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        byte[] plaintext = RandomNumberGenerator.GetBytes(64);
        using var platform = Aes.Create();
        platform.Key = key;
        byte[] expected = platform.EncryptCbc(plaintext, iv, PaddingMode.None);

        using var scope = AesCbc.ForceManaged();
        using var managed = new AesCbc(key);
        byte[] actual = new byte[64];
        managed.EncryptBlocks(plaintext.AsSpan(0, 32), iv, actual);
        managed.EncryptBlocks(plaintext.AsSpan(32), actual.AsSpan(16, 16), actual.AsSpan(32));
        Assert.Equal(expected, actual);
        byte[] back = new byte[64];
        managed.DecryptBlocks(actual, iv, back);
        Assert.Equal(plaintext, back);
    }

    [Fact]
    public void Bad_padding_throws_CryptographicException_on_the_managed_path_as_on_the_platform()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        using var platform = Aes.Create();
        platform.Key = key;
        // A block whose plaintext ends in 0x00 has no valid PKCS#7 padding.
        byte[] garbage = platform.EncryptCbc(new byte[16], iv, PaddingMode.None);

        using var scope = AesCbc.ForceManaged();
        using var managed = new AesCbc(key);
        Assert.Throws<CryptographicException>(() => managed.DecryptPkcs7(garbage, iv));
        Assert.ThrowsAny<CryptographicException>(() => managed.DecryptPkcs7(new byte[15], iv));
    }

    [Fact]
    public void Signal_message_bodies_are_the_same_bytes_on_both_paths()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        byte[] plaintext = RandomNumberGenerator.GetBytes(77);
        byte[] platform = MessageCipher.Encrypt(plaintext, key, iv);

        using var scope = AesCbc.ForceManaged();
        Assert.Equal(platform, MessageCipher.Encrypt(plaintext, key, iv));
        Assert.Equal(plaintext, MessageCipher.Decrypt(platform, key, iv));
        Assert.Throws<InvalidMessageException>(() => MessageCipher.Decrypt(new byte[16], key, iv));
    }

    [Fact]
    public void Libsignal_group_messages_decrypt_on_the_managed_path()
    {
        using var scope = AesCbc.ForceManaged();
        new SenderKeyMessageTests().Group_messages_made_by_libsignal_decrypt_in_any_order();
    }

    [Fact]
    public void An_attachment_encrypted_on_the_managed_path_decrypts_on_the_platform_and_back()
    {
        byte[] original = RandomNumberGenerator.GetBytes(100_003);
        using var key = AttachmentKey.Generate();
        using var managedBlob = new MemoryStream();
        EncryptedAttachment managed;
        using (AesCbc.ForceManaged())
        {
            managed = AttachmentCipher.Encrypt(new MemoryStream(original), managedBlob, key);
        }
        using (var output = new MemoryStream())
        {
            AttachmentCipher.Decrypt(new MemoryStream(managedBlob.ToArray()), output, key, managed.Digest);
            Assert.Equal(original, output.ToArray());
        }

        using var platformBlob = new MemoryStream();
        EncryptedAttachment platform = AttachmentCipher.Encrypt(new MemoryStream(original), platformBlob, key);
        using var scope = AesCbc.ForceManaged();
        using var back = new MemoryStream();
        AttachmentCipher.Decrypt(new MemoryStream(platformBlob.ToArray()), back, key, platform.Digest);
        Assert.Equal(original, back.ToArray());
    }
}
