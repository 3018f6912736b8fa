namespace Parley.Crypto.Keys;

/// <summary>A Curve25519 key pair: X25519 agreement and XEdDSA signing with the same key, as libsignal uses it.</summary>
public sealed class EcKeyPair
{
    /// <summary>Pairs an existing public and private key; the caller vouches that they match.</summary>
    public EcKeyPair(EcPublicKey publicKey, EcPrivateKey privateKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(privateKey);
        PublicKey = publicKey;
        PrivateKey = privateKey;
    }

    /// <summary>The public half.</summary>
    public EcPublicKey PublicKey { get; }

    /// <summary>The private half.</summary>
    public EcPrivateKey PrivateKey { get; }

    /// <summary>Creates a fresh random key pair.</summary>
    public static EcKeyPair Generate()
    {
        var privateKey = EcPrivateKey.Generate();
        return new EcKeyPair(privateKey.GetPublicKey(), privateKey);
    }

    /// <summary>Rebuilds a pair from serialized halves (0x05‖32 public, 32-byte private).</summary>
    public static EcKeyPair FromSerialized(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey) =>
        new(EcPublicKey.Deserialize(publicKey), EcPrivateKey.Deserialize(privateKey));

    /// <summary>X25519 shared secret (32 bytes) with <paramref name="theirs"/>.</summary>
    public byte[] CalculateAgreement(EcPublicKey theirs) => PrivateKey.CalculateAgreement(theirs);

    /// <summary>A 64-byte randomized XEdDSA signature of <paramref name="message"/>.</summary>
    public byte[] CalculateSignature(ReadOnlySpan<byte> message) => PrivateKey.CalculateSignature(message);

    /// <inheritdoc />
    public override string ToString() => $"EcKeyPair({PublicKey})";
}
