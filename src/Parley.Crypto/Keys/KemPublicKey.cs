using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace Parley.Crypto.Keys;

/// <summary>A Kyber-1024 / ML-KEM-1024 public key, serialized as libsignal does (type byte ‖ 1568 bytes).</summary>
public sealed class KemPublicKey : IEquatable<KemPublicKey>
{
    private readonly byte[] _key;
    private byte[]? _serialized;
    private MLKemPublicKeyParameters? _parameters;

    internal KemPublicKey(KemKeyType keyType, byte[] key)
    {
        KeyType = keyType;
        _key = key;
    }

    /// <summary>Which KEM this key belongs to.</summary>
    public KemKeyType KeyType { get; }

    /// <summary>The raw key without the type byte.</summary>
    public ReadOnlySpan<byte> KeyBytes => _key;

    /// <summary>Parses type byte ‖ key; an unknown type or wrong length throws <see cref="InvalidKeyException"/>.</summary>
    public static KemPublicKey Deserialize(ReadOnlySpan<byte> serialized)
    {
        var type = KemKeyTypes.Parse(serialized);
        if (serialized.Length != Kem1024.PublicKeyLength + 1)
        {
            throw new InvalidKeyException($"Bad KEM public key length {serialized.Length}.");
        }

        return new KemPublicKey(type, serialized[1..].ToArray());
    }

    /// <summary>Type byte ‖ key, in a fresh array.</summary>
    public byte[] Serialize() => (byte[])SerializedBytes.Clone();

    internal byte[] SerializedBytes
    {
        get
        {
            if (_serialized is null)
            {
                var s = new byte[_key.Length + 1];
                s[0] = (byte)KeyType;
                _key.CopyTo(s, 1);
                _serialized = s;
            }

            return _serialized;
        }
    }

    /// <summary>Creates a fresh shared secret for the holder of the matching secret key, and the ciphertext that carries it.</summary>
    public KemEncapsulation Encapsulate()
    {
        var ciphertext = new byte[Kem1024.CiphertextLength + 1];
        ciphertext[0] = (byte)KeyType;
        var secret = new byte[Kem1024.SharedSecretLength];
        try
        {
            _parameters ??= Kem1024.LoadPublic(_key);
            Kem1024.Encapsulate(KeyType, _parameters, ciphertext.AsSpan(1), secret);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // FIPS 203 rejects public keys whose coefficients are out of range.
            throw new InvalidKeyException("KEM public key is not a valid 1024 key.", e);
        }

        return new KemEncapsulation(secret, ciphertext);
    }

    /// <inheritdoc />
    public bool Equals(KemPublicKey? other) =>
        other is not null && other.KeyType == KeyType && CryptographicOperations.FixedTimeEquals(_key, other._key);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as KemPublicKey);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_key, 0);

    /// <inheritdoc />
    public override string ToString() => $"KemPublicKey({KeyType}, {Convert.ToHexStringLower(_key, 0, 4)}…)";
}
