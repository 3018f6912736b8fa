using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace Parley.Crypto.Keys;

/// <summary>
/// A Curve25519 private scalar, clamped as X25519 requires (as libsignal does on load). Its bytes never
/// appear in <see cref="ToString"/>.
/// </summary>
public sealed class EcPrivateKey
{
    /// <summary>Length of the scalar.</summary>
    public const int KeyLength = 32;

    private readonly byte[] _scalar;
    private byte[]? _edwardsPublicKey;

    private EcPrivateKey(byte[] scalar)
    {
        _scalar = scalar;
    }

    /// <summary>The clamped scalar, for use inside the library only.</summary>
    internal ReadOnlySpan<byte> Scalar => _scalar;

    /// <summary>Creates a fresh random key.</summary>
    public static EcPrivateKey Generate()
    {
        var scalar = new byte[KeyLength];
        RandomNumberGenerator.Fill(scalar);
        X25519.ClampPrivateKey(scalar);
        return new EcPrivateKey(scalar);
    }

    /// <summary>Loads 32 bytes (clamping them); any other length throws <see cref="InvalidKeyException"/>.</summary>
    public static EcPrivateKey Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length != KeyLength)
        {
            throw new InvalidKeyException($"Bad private key length {serialized.Length}.");
        }

        var scalar = serialized.ToArray();
        X25519.ClampPrivateKey(scalar);
        return new EcPrivateKey(scalar);
    }

    /// <summary>Returns a fresh copy of the 32 clamped scalar bytes; the caller owns (and should zero) it.</summary>
    public byte[] Serialize() => (byte[])_scalar.Clone();

    /// <summary>Derives the matching public key.</summary>
    public EcPublicKey GetPublicKey()
    {
        Span<byte> pub = stackalloc byte[EcPublicKey.KeyLength];
        X25519.ScalarMultBase(_scalar, pub);
        return EcPublicKey.FromPublicKeyBytes(pub);
    }

    /// <summary>X25519 with <paramref name="theirs"/>; a degenerate (all-zero) result throws <see cref="InvalidKeyException"/>.</summary>
    public byte[] CalculateAgreement(EcPublicKey theirs)
    {
        var shared = new byte[32];
        CalculateAgreement(theirs, shared);
        return shared;
    }

    /// <summary>X25519 into a caller buffer of 32 bytes.</summary>
    internal void CalculateAgreement(EcPublicKey theirs, Span<byte> shared)
    {
        ArgumentNullException.ThrowIfNull(theirs);
        if (!X25519.CalculateAgreement(_scalar, theirs.PublicKeyBytes, shared))
        {
            throw new InvalidKeyException("Key agreement produced the all-zero secret (low-order public key).");
        }
    }

    /// <summary>A 64-byte randomized XEdDSA signature of <paramref name="message"/>, verifiable with the matching public key.</summary>
    public byte[] CalculateSignature(ReadOnlySpan<byte> message)
    {
        // A = a·B is fixed per key; caching it halves the cost of repeated signing.
        _edwardsPublicKey ??= XEdDsa.EdwardsPublicKey(_scalar);
        var signature = new byte[XEdDsa.SignatureLength];
        XEdDsa.Sign(_scalar, _edwardsPublicKey, message, signature);
        return signature;
    }

    /// <summary>Names the type only; never the scalar.</summary>
    public override string ToString() => "EcPrivateKey(redacted)";
}
