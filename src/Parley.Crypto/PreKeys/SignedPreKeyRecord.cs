using System.Security.Cryptography;
using Parley.Crypto.Keys;

namespace Parley.Crypto.PreKeys;

/// <summary>
/// A medium-term Curve25519 prekey signed (XEdDSA) by the identity key over its serialized public key;
/// serializes as libsignal's SignedPreKeyRecordStructure.
/// </summary>
public sealed class SignedPreKeyRecord
{
    private readonly byte[] _signature;

    /// <summary>Wraps existing parts; <paramref name="signature"/> is the identity's signature of the serialized public key.</summary>
    public SignedPreKeyRecord(uint id, ulong timestampMilliseconds, EcKeyPair keyPair, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(keyPair);
        Id = id;
        TimestampMilliseconds = timestampMilliseconds;
        KeyPair = keyPair;
        _signature = signature.ToArray();
    }

    /// <summary>The id the bundle advertises.</summary>
    public uint Id { get; }

    /// <summary>Creation time, Unix milliseconds (for rotation).</summary>
    public ulong TimestampMilliseconds { get; }

    /// <summary>The key pair.</summary>
    public EcKeyPair KeyPair { get; }

    /// <summary>The 64-byte XEdDSA signature.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>A fresh signed prekey, signed by <paramref name="identity"/>.</summary>
    public static SignedPreKeyRecord Generate(uint id, IdentityKeyPair identity, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var keyPair = EcKeyPair.Generate();
        var signature = identity.CalculateSignature(keyPair.PublicKey.SerializedBytes);
        return new SignedPreKeyRecord(id, (ulong)createdAt.ToUnixTimeMilliseconds(), keyPair, signature);
    }

    /// <summary>SignedPreKeyRecordStructure bytes (they contain the private key).</summary>
    public byte[] Serialize()
    {
        var scalar = KeyPair.PrivateKey.Serialize();
        var result = KeyRecordFields.Write(Id, KeyPair.PublicKey.SerializedBytes, scalar, _signature, TimestampMilliseconds);
        CryptographicOperations.ZeroMemory(scalar);
        return result;
    }

    /// <summary>Parses SignedPreKeyRecordStructure bytes; malformed input throws <see cref="InvalidKeyException"/>.</summary>
    public static SignedPreKeyRecord Deserialize(ReadOnlySpan<byte> serialized)
    {
        var fields = KeyRecordFields.Parse(serialized);
        return new SignedPreKeyRecord(fields.Id, fields.Timestamp, EcKeyPair.FromSerialized(fields.PublicKey, fields.PrivateKey), fields.Signature);
    }
}
