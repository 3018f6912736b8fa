using System.Security.Cryptography;

namespace Parley.Crypto.Sessions;

/// <summary>AES-256-CBC with PKCS#7 padding, as libsignal encrypts 1:1 message bodies.</summary>
internal static class MessageCipher
{
    [ThreadStatic]
    private static Aes? t_aes;

    private static Aes Instance => t_aes ??= Aes.Create();

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] key, ReadOnlySpan<byte> iv)
    {
        var aes = Instance;
        aes.Key = key;
        return aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
    }

    /// <summary>Decrypts; a wrong length or bad padding throws <see cref="InvalidMessageException"/>.</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> ciphertext, byte[] key, ReadOnlySpan<byte> iv)
    {
        if (ciphertext.IsEmpty || ciphertext.Length % 16 != 0)
        {
            throw new InvalidMessageException("Ciphertext length is not a whole number of AES blocks.");
        }

        var aes = Instance;
        aes.Key = key;
        try
        {
            return aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException e)
        {
            throw new InvalidMessageException("Message body failed to decrypt (bad padding).", e);
        }
    }
}
