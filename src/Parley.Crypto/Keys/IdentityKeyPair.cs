using System.Security.Cryptography;
using Parley.Crypto.Protobuf;

namespace Parley.Crypto.Keys;

/// <summary>
/// A device's long-term identity key pair. Serializes as libsignal's IdentityKeyPairStructure
/// (field 1 public key 0x05‖32, field 2 private scalar).
/// </summary>
public sealed class IdentityKeyPair
{
    /// <summary>Pairs an identity with its private key; the caller vouches that they match.</summary>
    public IdentityKeyPair(IdentityKey identityKey, EcPrivateKey privateKey)
    {
        ArgumentNullException.ThrowIfNull(identityKey);
        ArgumentNullException.ThrowIfNull(privateKey);
        IdentityKey = identityKey;
        PrivateKey = privateKey;
    }

    /// <summary>The public identity.</summary>
    public IdentityKey IdentityKey { get; }

    /// <summary>The identity's Curve25519 public key.</summary>
    public EcPublicKey PublicKey => IdentityKey.PublicKey;

    /// <summary>The private half.</summary>
    public EcPrivateKey PrivateKey { get; }

    /// <summary>Creates a fresh random identity.</summary>
    public static IdentityKeyPair Generate()
    {
        var pair = EcKeyPair.Generate();
        return new IdentityKeyPair(new IdentityKey(pair.PublicKey), pair.PrivateKey);
    }

    /// <summary>A 64-byte XEdDSA signature by the identity key.</summary>
    public byte[] CalculateSignature(ReadOnlySpan<byte> message) => PrivateKey.CalculateSignature(message);

    /// <summary>The pair as an <see cref="EcKeyPair"/> (same key material).</summary>
    public EcKeyPair AsKeyPair() => new(PublicKey, PrivateKey);

    /// <summary>IdentityKeyPairStructure protobuf bytes; they contain the private key.</summary>
    public byte[] Serialize()
    {
        var writer = new ProtoBufferWriter(80);
        writer.WriteBytes(1, PublicKey.SerializedBytes);
        var scalar = PrivateKey.Serialize();
        writer.WriteBytes(2, scalar);
        CryptographicOperations.ZeroMemory(scalar);
        var result = writer.ToArray();
        writer.Clear();
        return result;
    }

    /// <summary>Parses IdentityKeyPairStructure bytes; malformed input throws <see cref="InvalidKeyException"/>.</summary>
    public static IdentityKeyPair Deserialize(ReadOnlySpan<byte> serialized)
    {
        ReadOnlySpan<byte> publicKey = default;
        ReadOnlySpan<byte> privateKey = default;
        try
        {
            var reader = new ProtoReader(serialized);
            while (reader.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        publicKey = reader.ReadBytes(wire);
                        break;
                    case 2:
                        privateKey = reader.ReadBytes(wire);
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (ProtoFormatException e)
        {
            throw new InvalidKeyException("Malformed identity key pair: " + e.Message, e);
        }

        return new IdentityKeyPair(IdentityKey.Deserialize(publicKey), EcPrivateKey.Deserialize(privateKey));
    }

    /// <inheritdoc />
    public override string ToString() => $"IdentityKeyPair({IdentityKey})";
}
