using System.Security.Cryptography;
using Parley.Crypto.Ciphers;

namespace Parley.Crypto.Sessions;

/// <summary>AES-256-CBC with PKCS#7 padding, as libsignal encrypts 1:1 message bodies.</summary>
internal static class MessageCipher
{
    [ThreadStatic]
    private static AesCbc? t_aes;

    [ThreadStatic]
    private static bool t_managed;

    // One cipher per thread, re-keyed per message; made again when a test switches the path.
    private static AesCbc Instance(byte[] key)
    {
        if (t_aes is null || t_managed != AesCbc.UsesManaged)
        {
            t_aes?.Dispose();
            t_aes = new AesCbc(key);
            t_managed = AesCbc.UsesManaged;
            return t_aes;
        }
        t_aes.SetKey(key);
        return t_aes;
    }

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] key, ReadOnlySpan<byte> iv)
    {
        return Instance(key).EncryptPkcs7(plaintext, iv);
    }

    /// <summary>Decrypts; a wrong length or bad padding throws <see cref="InvalidMessageException"/>.</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> ciphertext, byte[] key, ReadOnlySpan<byte> iv)
    {
        if (ciphertext.IsEmpty || ciphertext.Length % 16 != 0)
        {
            throw new InvalidMessageException("Ciphertext length is not a whole number of AES blocks.");
        }

        var aes = Instance(key);
        try
        {
            return aes.DecryptPkcs7(ciphertext, iv);
        }
        catch (CryptographicException e)
        {
            throw new InvalidMessageException("Message body failed to decrypt (bad padding).", e);
        }
    }
}
