using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Parley.Crypto.Keys;

/// <summary>
/// XEdDSA over Curve25519 as libsignal computes it: the Edwards public key A = a·B is used with its own
/// sign, and that sign travels in the otherwise-unused top bit of s, so verifiers rebuild A from the
/// Montgomery key. Signatures are randomized with 64 fresh bytes, as libsignal does.
/// </summary>
internal static class XEdDsa
{
    public const int SignatureLength = 64;

    private static readonly byte[] HashPrefix = CreateHashPrefix();

    private static byte[] CreateHashPrefix()
    {
        var prefix = new byte[32];
        prefix.AsSpan().Fill(0xFF);
        prefix[0] = 0xFE;
        return prefix;
    }

    /// <summary>Computes the compressed Edwards public point of a clamped Curve25519 private scalar.</summary>
    public static byte[] EdwardsPublicKey(ReadOnlySpan<byte> privateScalar)
    {
        var a = new byte[32];
        Ed25519Arithmetic.ScalarMultBase(privateScalar, a);
        return a;
    }

    public static void Sign(ReadOnlySpan<byte> privateScalar, ReadOnlySpan<byte> edwardsPublicKey, ReadOnlySpan<byte> message, Span<byte> signature)
    {
        Span<byte> random = stackalloc byte[64];
        RandomNumberGenerator.Fill(random);
        Span<byte> digest = stackalloc byte[64];
        Span<byte> r = stackalloc byte[32];
        Span<byte> h = stackalloc byte[32];
        try
        {
            // r = SHA-512(0xFE‖0xFF×31 ‖ a ‖ M ‖ Z) mod L
            using (var nonceHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
            {
                nonceHash.AppendData(HashPrefix);
                nonceHash.AppendData(privateScalar);
                nonceHash.AppendData(message);
                nonceHash.AppendData(random);
                nonceHash.GetHashAndReset(digest);
            }

            Ed25519Arithmetic.Reduce512(digest, r);
            Ed25519Arithmetic.ScalarMultBase(r, signature[..32]);

            // h = SHA-512(R ‖ A ‖ M) mod L; s = r + h·a mod L
            using (var challenge = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
            {
                challenge.AppendData(signature[..32]);
                challenge.AppendData(edwardsPublicKey);
                challenge.AppendData(message);
                challenge.GetHashAndReset(digest);
            }

            Ed25519Arithmetic.Reduce512(digest, h);
            Ed25519Arithmetic.MultiplyAdd(r, h, privateScalar, signature[32..]);
            signature[63] = (byte)((signature[63] & 0x7F) | (edwardsPublicKey[31] & 0x80));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
            CryptographicOperations.ZeroMemory(digest);
            CryptographicOperations.ZeroMemory(r);
        }
    }

    /// <summary>The Edwards public point for a Montgomery key and sign bit, or null when there is none.</summary>
    public static Ed25519.PublicPoint? EdwardsPoint(ReadOnlySpan<byte> montgomeryPublicKey, int signBit)
    {
        Span<byte> edwards = stackalloc byte[32];
        return Ed25519Arithmetic.MontgomeryToEdwards(montgomeryPublicKey, signBit, edwards)
            ? Ed25519.ValidatePublicKeyPartialExport(edwards)
            : null;
    }

    /// <summary>Verifies with the signer's Edwards point for the signature's sign bit (decoded once per key and cached there).</summary>
    public static bool Verify(EcPublicKey signer, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            return false;
        }

        var point = signer.EdwardsPoint(signature[63] >> 7);
        if (point is null)
        {
            return false;
        }

        Span<byte> standard = stackalloc byte[SignatureLength];
        signature.CopyTo(standard);
        standard[63] &= 0x7F;
        if ((standard[63] & 0xE0) != 0)
        {
            return false;
        }

        // With A rebuilt, the check R == s·B − h·A is exactly Ed25519 verification.
        return Ed25519.Verify(standard, point, message);
    }
}
