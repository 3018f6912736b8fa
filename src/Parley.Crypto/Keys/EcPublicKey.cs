using System.Security.Cryptography;

namespace Parley.Crypto.Keys;

/// <summary>
/// A Curve25519 public key. Serializes as libsignal does (type byte 0x05 ‖ 32 bytes); equality compares
/// the key bytes in constant time.
/// </summary>
public sealed class EcPublicKey : IEquatable<EcPublicKey>
{
    /// <summary>The type byte libsignal puts in front of Curve25519 ("DJB") keys.</summary>
    public const byte DjbType = 0x05;

    /// <summary>Length of the raw key.</summary>
    public const int KeyLength = 32;

    /// <summary>Length of the serialized key (type byte included).</summary>
    public const int SerializedLength = KeyLength + 1;

    private readonly byte[] _key;
    private byte[]? _serialized;

    // Decoded Edwards forms (by sign bit), cached: an identity key verifies many signatures.
    private Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicPoint? _edwardsPositive;
    private Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicPoint? _edwardsNegative;

    private EcPublicKey(byte[] key)
    {
        _key = key;
    }

    /// <summary>The decoded Edwards point with this u-coordinate and sign bit, or null if there is none.</summary>
    internal Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicPoint? EdwardsPoint(int signBit) =>
        signBit == 0
            ? _edwardsPositive ??= XEdDsa.EdwardsPoint(_key, 0)
            : _edwardsNegative ??= XEdDsa.EdwardsPoint(_key, 1);

    /// <summary>The 32 raw key bytes (Montgomery u-coordinate), without the type byte.</summary>
    public ReadOnlySpan<byte> PublicKeyBytes => _key;

    /// <summary>Parses 0x05 ‖ 32 bytes; anything else throws <see cref="InvalidKeyException"/>.</summary>
    public static EcPublicKey Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.IsEmpty)
        {
            throw new InvalidKeyException("Public key has no type byte.");
        }

        if (serialized[0] != DjbType)
        {
            throw new InvalidKeyException($"Bad public key type 0x{serialized[0]:x2}.");
        }

        if (serialized.Length != SerializedLength)
        {
            throw new InvalidKeyException($"Bad public key length {serialized.Length}.");
        }

        return new EcPublicKey(serialized[1..].ToArray());
    }

    /// <summary>Wraps 32 raw key bytes (no type byte); any other length throws <see cref="InvalidKeyException"/>.</summary>
    public static EcPublicKey FromPublicKeyBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new InvalidKeyException($"Bad public key length {key.Length}.");
        }

        return new EcPublicKey(key.ToArray());
    }

    /// <summary>Returns a fresh array holding 0x05 ‖ the 32 key bytes.</summary>
    public byte[] Serialize() => (byte[])SerializedBytes.Clone();

    /// <summary>The serialized form, cached; callers inside the library must not mutate it.</summary>
    internal byte[] SerializedBytes
    {
        get
        {
            if (_serialized is null)
            {
                var s = new byte[SerializedLength];
                s[0] = DjbType;
                _key.CopyTo(s, 1);
                _serialized = s;
            }

            return _serialized;
        }
    }

    /// <summary>
    /// Whether the key is a canonical encoding (u &lt; p) of a point in the prime-order subgroup, as current
    /// libsignal requires of incoming base keys. Honestly generated keys always are.
    /// </summary>
    internal bool IsCanonical()
    {
        bool belowFieldPrime = (_key[31] & 0x80) == 0
            && !(_key[0] >= 256 - 19 && _key.AsSpan(1, 30).IndexOfAnyExcept((byte)0xFF) < 0 && _key[31] == 0x7F);
        if (!belowFieldPrime)
        {
            return false;
        }

        Span<byte> edwards = stackalloc byte[32];
        return Ed25519Arithmetic.MontgomeryToEdwards(_key, 0, edwards)
            && Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.ValidatePublicKeyFull(edwards);
    }

    /// <summary>True only if <paramref name="signature"/> is a valid XEdDSA signature of <paramref name="message"/> by this key.</summary>
    public bool VerifySignature(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        XEdDsa.Verify(this, message, signature);

    /// <summary>True only if <paramref name="signature"/> is a valid XEdDSA signature of <paramref name="message"/> by <paramref name="key"/>.</summary>
    public static bool VerifySignature(EcPublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.VerifySignature(message, signature);
    }

    /// <inheritdoc />
    public bool Equals(EcPublicKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_key, other._key);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EcPublicKey);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_key, 0);

    /// <summary>Names the key by a short prefix only.</summary>
    public override string ToString() => $"EcPublicKey({Convert.ToHexStringLower(_key, 0, 4)}…)";

    public static bool operator ==(EcPublicKey? left, EcPublicKey? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(EcPublicKey? left, EcPublicKey? right) => !(left == right);
}
