using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Parley.Crypto.Keys;

/// <summary>
/// ML-KEM-1024 from BouncyCastle, plus the round-3 Kyber-1024 that libsignal's type 0x08 means. The two share
/// key formats and the IND-CPA core; Kyber round 3 differs only in deriving the final secret as
/// SHAKE-256(K̄ ‖ SHA3-256(c)) and, on rejection, SHAKE-256(z ‖ SHA3-256(c)) — so it is built here on top of
/// the ML-KEM operations.
/// </summary>
internal static class Kem1024
{
    public const int PublicKeyLength = 1568;
    public const int SecretKeyLength = 3168;
    public const int CiphertextLength = 1568;
    public const int SharedSecretLength = 32;

    private static readonly MLKemParameters Parameters = MLKemParameters.ml_kem_1024;

    [ThreadStatic]
    private static SecureRandom? t_random;

    private static SecureRandom Random => t_random ??= new SecureRandom();

    public static (byte[] PublicKey, byte[] SecretKey) Generate()
    {
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(Random, Parameters));
        var pair = generator.GenerateKeyPair();
        var publicKey = ((MLKemPublicKeyParameters)pair.Public).GetEncoded();
        var secretKey = ((MLKemPrivateKeyParameters)pair.Private)
            .WithPreferredFormat(MLKemPrivateKeyParameters.Format.EncodingOnly)
            .GetEncoded();
        return (publicKey, secretKey);
    }

    public static MLKemPublicKeyParameters LoadPublic(byte[] key) => MLKemPublicKeyParameters.FromEncoding(Parameters, key);

    public static MLKemPrivateKeyParameters LoadSecret(byte[] key) => MLKemPrivateKeyParameters.FromEncoding(Parameters, key);

    public static void Encapsulate(KemKeyType type, MLKemPublicKeyParameters publicKey, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        var encapsulator = new MLKemEncapsulator(Parameters);
        encapsulator.Init(new ParametersWithRandom(publicKey, Random));
        encapsulator.Encapsulate(ciphertext, sharedSecret);
        if (type == KemKeyType.Kyber1024)
        {
            DeriveRound3Secret(sharedSecret, ciphertext, sharedSecret);
        }
    }

    public static void Decapsulate(KemKeyType type, MLKemPrivateKeyParameters secretKey, ReadOnlySpan<byte> z, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
        var decapsulator = new MLKemDecapsulator(Parameters);
        decapsulator.Init(secretKey);
        decapsulator.Decapsulate(ciphertext, sharedSecret);
        if (type != KemKeyType.Kyber1024)
        {
            return;
        }

        // ML-KEM answers an invalid ciphertext with J(z ‖ c); recognise that and substitute Kyber's z as the
        // KDF prefix, selecting without branching on the secret outcome.
        Span<byte> rejection = stackalloc byte[SharedSecretLength];
        Shake256(z, ciphertext, rejection);
        int rejected = CryptographicOperations.FixedTimeEquals(rejection, sharedSecret) ? 1 : 0;
        byte mask = (byte)-rejected;
        Span<byte> prefix = stackalloc byte[SharedSecretLength];
        for (int i = 0; i < prefix.Length; i++)
        {
            prefix[i] = (byte)((z[i] & mask) | (sharedSecret[i] & ~mask));
        }

        DeriveRound3Secret(prefix, ciphertext, sharedSecret);
        CryptographicOperations.ZeroMemory(prefix);
        CryptographicOperations.ZeroMemory(rejection);
    }

    private static void DeriveRound3Secret(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> ciphertext, Span<byte> output)
    {
        Span<byte> ciphertextHash = stackalloc byte[32];
        var sha3 = new Sha3Digest(256);
        sha3.BlockUpdate(ciphertext);
        sha3.DoFinal(ciphertextHash);
        Shake256(prefix, ciphertextHash, output);
    }

    private static void Shake256(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> output)
    {
        var shake = new ShakeDigest(256);
        shake.BlockUpdate(first);
        shake.BlockUpdate(second);
        shake.OutputFinal(output[..SharedSecretLength]);
    }
}
