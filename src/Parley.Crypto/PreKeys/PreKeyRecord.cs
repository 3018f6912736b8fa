using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Protobuf;

namespace Parley.Crypto.PreKeys;

/// <summary>A one-time Curve25519 prekey; serializes as libsignal's PreKeyRecordStructure (id, public key, private key).</summary>
public sealed class PreKeyRecord
{
    /// <summary>Wraps an id and key pair.</summary>
    public PreKeyRecord(uint id, EcKeyPair keyPair)
    {
        ArgumentNullException.ThrowIfNull(keyPair);
        Id = id;
        KeyPair = keyPair;
    }

    /// <summary>The prekey id the bundle advertises.</summary>
    public uint Id { get; }

    /// <summary>The key pair.</summary>
    public EcKeyPair KeyPair { get; }

    /// <summary>A fresh prekey with this id.</summary>
    public static PreKeyRecord Generate(uint id) => new(id, EcKeyPair.Generate());

    /// <summary>PreKeyRecordStructure bytes (they contain the private key).</summary>
    public byte[] Serialize()
    {
        var writer = new ProtoBufferWriter(80);
        writer.WriteUInt32(1, Id);
        writer.WriteBytes(2, KeyPair.PublicKey.SerializedBytes);
        var scalar = KeyPair.PrivateKey.Serialize();
        writer.WriteBytes(3, scalar);
        CryptographicOperations.ZeroMemory(scalar);
        var result = writer.ToArray();
        writer.Clear();
        return result;
    }

    /// <summary>Parses PreKeyRecordStructure bytes; malformed input throws <see cref="InvalidKeyException"/>.</summary>
    public static PreKeyRecord Deserialize(ReadOnlySpan<byte> serialized)
    {
        var fields = KeyRecordFields.Parse(serialized);
        return new PreKeyRecord(fields.Id, EcKeyPair.FromSerialized(fields.PublicKey, fields.PrivateKey));
    }
}
