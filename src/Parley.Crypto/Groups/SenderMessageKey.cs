using System.Security.Cryptography;
using System.Text;

namespace Parley.Crypto.Groups;

/// <summary>
/// The key of one group message: HKDF-SHA256(seed, no salt, info "WhisperGroup") gives 48 bytes,
/// the first 16 the CBC IV and the last 32 the AES-256 key.
/// </summary>
internal sealed class SenderMessageKey
{
    private static readonly byte[] Info = Encoding.ASCII.GetBytes("WhisperGroup");

    internal SenderMessageKey(uint iteration, byte[] seed)
    {
        Iteration = iteration;
        Seed = seed;
        Span<byte> derived = stackalloc byte[48];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, derived, salt: [], info: Info);
        Iv = derived[..16].ToArray();
        CipherKey = derived[16..].ToArray();
        CryptographicOperations.ZeroMemory(derived);
    }

    internal uint Iteration { get; }

    internal byte[] Seed { get; }

    internal byte[] Iv { get; }

    internal byte[] CipherKey { get; }

    /// <summary>Wipes the key material once the message is done.</summary>
    internal void Zero()
    {
        CryptographicOperations.ZeroMemory(Seed);
        CryptographicOperations.ZeroMemory(Iv);
        CryptographicOperations.ZeroMemory(CipherKey);
    }
}
