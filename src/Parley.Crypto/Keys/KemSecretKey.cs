using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace Parley.Crypto.Keys;

/// <summary>A Kyber-1024 / ML-KEM-1024 secret key (type byte ‖ 3168 bytes when serialized); never printed.</summary>
public sealed class KemSecretKey
{
    private readonly byte[] _key;
    private MLKemPrivateKeyParameters? _parameters;

    internal KemSecretKey(KemKeyType keyType, byte[] key)
    {
        KeyType = keyType;
        _key = key;
    }

    /// <summary>Which KEM this key belongs to.</summary>
    public KemKeyType KeyType { get; }

    /// <summary>Parses type byte ‖ key; an unknown type or wrong length throws <see cref="InvalidKeyException"/>.</summary>
    public static KemSecretKey Deserialize(ReadOnlySpan<byte> serialized)
    {
        var type = KemKeyTypes.Parse(serialized);
        if (serialized.Length != Kem1024.SecretKeyLength + 1)
        {
            throw new InvalidKeyException($"Bad KEM secret key length {serialized.Length}.");
        }

        return new KemSecretKey(type, serialized[1..].ToArray());
    }

    /// <summary>Type byte ‖ key, in a fresh array the caller owns (and should zero).</summary>
    public byte[] Serialize()
    {
        var s = new byte[_key.Length + 1];
        s[0] = (byte)KeyType;
        _key.CopyTo(s, 1);
        return s;
    }

    /// <summary>
    /// Recovers the 32-byte shared secret from a serialized ciphertext (type byte ‖ ciphertext). A ciphertext of
    /// another KEM type or length throws <see cref="InvalidMessageException"/>; a tampered one yields an
    /// unrelated secret (implicit rejection), which the session MAC then refuses.
    /// </summary>
    public byte[] Decapsulate(ReadOnlySpan<byte> serializedCiphertext)
    {
        if (serializedCiphertext.Length != Kem1024.CiphertextLength + 1 || serializedCiphertext[0] != (byte)KeyType)
        {
            throw new InvalidMessageException("KEM ciphertext has the wrong type or length for this key.");
        }

        var secret = new byte[Kem1024.SharedSecretLength];
        try
        {
            _parameters ??= Kem1024.LoadSecret(_key);
            Kem1024.Decapsulate(KeyType, _parameters, _key.AsSpan(_key.Length - 32), serializedCiphertext[1..], secret);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidKeyException("KEM secret key is not a valid 1024 key.", e);
        }

        return secret;
    }

    /// <summary>Names the type only; never the key.</summary>
    public override string ToString() => $"KemSecretKey({KeyType}, redacted)";

    internal void Zero() => CryptographicOperations.ZeroMemory(_key);
}
