using Parley.Crypto.Protobuf;

namespace Parley.Crypto.PreKeys;

/// <summary>
/// The fields shared by PreKeyRecordStructure and SignedPreKeyRecordStructure (Kyber prekeys reuse the
/// latter, as libsignal does): 1 id, 2 public key, 3 private key, 4 signature, 5 timestamp (fixed64 ms).
/// </summary>
internal readonly ref struct KeyRecordFields
{
    public uint Id { get; init; }

    public ReadOnlySpan<byte> PublicKey { get; init; }

    public ReadOnlySpan<byte> PrivateKey { get; init; }

    public ReadOnlySpan<byte> Signature { get; init; }

    public ulong Timestamp { get; init; }

    public static KeyRecordFields Parse(ReadOnlySpan<byte> serialized)
    {
        uint id = 0;
        ulong timestamp = 0;
        ReadOnlySpan<byte> publicKey = default, privateKey = default, signature = default;
        try
        {
            var reader = new ProtoReader(serialized);
            while (reader.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        id = reader.ReadUInt32(wire);
                        break;
                    case 2:
                        publicKey = reader.ReadBytes(wire);
                        break;
                    case 3:
                        privateKey = reader.ReadBytes(wire);
                        break;
                    case 4:
                        signature = reader.ReadBytes(wire);
                        break;
                    case 5:
                        reader.Expect(wire, ProtoWireType.Fixed64);
                        timestamp = reader.ReadFixed64();
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (ProtoFormatException e)
        {
            throw new InvalidKeyException("Malformed prekey record: " + e.Message, e);
        }

        return new KeyRecordFields
        {
            Id = id,
            PublicKey = publicKey,
            PrivateKey = privateKey,
            Signature = signature,
            Timestamp = timestamp,
        };
    }

    public static byte[] Write(uint id, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> signature, ulong timestamp)
    {
        var writer = new ProtoBufferWriter(publicKey.Length + privateKey.Length + 128);
        writer.WriteUInt32(1, id);
        writer.WriteBytes(2, publicKey);
        writer.WriteBytes(3, privateKey);
        writer.WriteBytes(4, signature);
        writer.WriteFixed64(5, timestamp);
        var result = writer.ToArray();
        writer.Clear();
        return result;
    }
}
