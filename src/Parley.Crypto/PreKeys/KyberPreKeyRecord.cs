using System.Security.Cryptography;
using Parley.Crypto.Keys;

namespace Parley.Crypto.PreKeys;

/// <summary>
/// A post-quantum KEM prekey signed (XEdDSA) by the identity key over its serialized public key (type byte
/// included); serializes as libsignal does, in a SignedPreKeyRecordStructure.
/// </summary>
public sealed class KyberPreKeyRecord
{
    private readonly byte[] _signature;

    /// <summary>Wraps existing parts; <paramref name="signature"/> is the identity's signature of the serialized KEM public key.</summary>
    public KyberPreKeyRecord(uint id, ulong timestampMilliseconds, KemKeyPair keyPair, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(keyPair);
        Id = id;
        TimestampMilliseconds = timestampMilliseconds;
        KeyPair = keyPair;
        _signature = signature.ToArray();
    }

    /// <summary>The id the bundle advertises.</summary>
    public uint Id { get; }

    /// <summary>Creation time, Unix milliseconds.</summary>
    public ulong TimestampMilliseconds { get; }

    /// <summary>The KEM key pair.</summary>
    public KemKeyPair KeyPair { get; }

    /// <summary>The 64-byte XEdDSA signature.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>A fresh KEM prekey of <paramref name="keyType"/>, signed by <paramref name="identity"/>.</summary>
    public static KyberPreKeyRecord Generate(uint id, IdentityKeyPair identity, DateTimeOffset createdAt, KemKeyType keyType = KemKeyType.Kyber1024)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var keyPair = KemKeyPair.Generate(keyType);
        var signature = identity.CalculateSignature(keyPair.PublicKey.SerializedBytes);
        return new KyberPreKeyRecord(id, (ulong)createdAt.ToUnixTimeMilliseconds(), keyPair, signature);
    }

    /// <summary>SignedPreKeyRecordStructure bytes (they contain the secret key).</summary>
    public byte[] Serialize()
    {
        var secret = KeyPair.SecretKey.Serialize();
        var result = KeyRecordFields.Write(Id, KeyPair.PublicKey.SerializedBytes, secret, _signature, TimestampMilliseconds);
        CryptographicOperations.ZeroMemory(secret);
        return result;
    }

    /// <summary>Parses the record; malformed input throws <see cref="InvalidKeyException"/>.</summary>
    public static KyberPreKeyRecord Deserialize(ReadOnlySpan<byte> serialized)
    {
        var fields = KeyRecordFields.Parse(serialized);
        return new KyberPreKeyRecord(fields.Id, fields.Timestamp, KemKeyPair.FromSerialized(fields.PublicKey, fields.PrivateKey), fields.Signature);
    }
}
