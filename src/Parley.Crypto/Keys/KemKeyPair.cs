namespace Parley.Crypto.Keys;

/// <summary>A post-quantum KEM key pair for PQXDH prekeys.</summary>
public sealed class KemKeyPair
{
    /// <summary>Pairs existing halves; the caller vouches that they match.</summary>
    public KemKeyPair(KemPublicKey publicKey, KemSecretKey secretKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(secretKey);
        if (publicKey.KeyType != secretKey.KeyType)
        {
            throw new InvalidKeyException("KEM public and secret keys are of different types.");
        }

        PublicKey = publicKey;
        SecretKey = secretKey;
    }

    /// <summary>The public half (goes into the prekey bundle).</summary>
    public KemPublicKey PublicKey { get; }

    /// <summary>The secret half (stays on the device).</summary>
    public KemSecretKey SecretKey { get; }

    /// <summary>
    /// Creates a fresh key pair. The default, <see cref="KemKeyType.Kyber1024"/>, is the type libsignal
    /// deploys; choose <see cref="KemKeyType.MlKem1024"/> for FIPS 203 where both ends support it.
    /// </summary>
    public static KemKeyPair Generate(KemKeyType keyType = KemKeyType.Kyber1024)
    {
        if (keyType is not (KemKeyType.Kyber1024 or KemKeyType.MlKem1024))
        {
            throw new InvalidKeyException($"Unsupported KEM key type {keyType}.");
        }

        var (publicKey, secretKey) = Kem1024.Generate();
        return new KemKeyPair(new KemPublicKey(keyType, publicKey), new KemSecretKey(keyType, secretKey));
    }

    /// <summary>Rebuilds a pair from serialized halves.</summary>
    public static KemKeyPair FromSerialized(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> secretKey) =>
        new(KemPublicKey.Deserialize(publicKey), KemSecretKey.Deserialize(secretKey));
}
