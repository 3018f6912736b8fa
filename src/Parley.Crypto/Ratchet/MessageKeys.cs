using System.Security.Cryptography;

namespace Parley.Crypto.Ratchet;

/// <summary>Per-message keys: HKDF-SHA256(seed, salt none, info "WhisperMessageKeys") → 32 AES key ‖ 32 MAC key ‖ 16 IV.</summary>
internal sealed class MessageKeys
{
    private static readonly byte[] Info = "WhisperMessageKeys"u8.ToArray();

    public MessageKeys(byte[] cipherKey, byte[] macKey, byte[] iv, uint counter)
    {
        CipherKey = cipherKey;
        MacKey = macKey;
        Iv = iv;
        Counter = counter;
    }

    public byte[] CipherKey { get; }

    public byte[] MacKey { get; }

    public byte[] Iv { get; }

    public uint Counter { get; }

    public static MessageKeys Derive(ReadOnlySpan<byte> seed, uint counter)
    {
        Span<byte> okm = stackalloc byte[80];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, okm, ReadOnlySpan<byte>.Empty, Info);
        var keys = new MessageKeys(okm[..32].ToArray(), okm[32..64].ToArray(), okm[64..80].ToArray(), counter);
        CryptographicOperations.ZeroMemory(okm);
        return keys;
    }

    public void Zero()
    {
        CryptographicOperations.ZeroMemory(CipherKey);
        CryptographicOperations.ZeroMemory(MacKey);
        CryptographicOperations.ZeroMemory(Iv);
    }
}
