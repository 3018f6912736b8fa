using System.Security.Cryptography;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Ratchet;

/// <summary>
/// The Diffie-Hellman ratchet's root key: a step is HKDF-SHA256(salt = root key, ikm = DH output,
/// info "WhisperRatchet") → new root key ‖ new chain key, as libsignal.
/// </summary>
internal static class RootKey
{
    private static readonly byte[] Info = "WhisperRatchet"u8.ToArray();

    public static (byte[] RootKey, ChainKey ChainKey) CreateChain(byte[] rootKey, EcPublicKey theirRatchetKey, EcPrivateKey ourRatchetKey)
    {
        Span<byte> shared = stackalloc byte[32];
        Span<byte> okm = stackalloc byte[64];
        try
        {
            ourRatchetKey.CalculateAgreement(theirRatchetKey, shared);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, okm, rootKey, Info);
            return (okm[..32].ToArray(), new ChainKey(okm[32..].ToArray(), 0));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(okm);
        }
    }
}
