using System.Buffers.Binary;

namespace Parley.Crypto.Protobuf;

/// <summary>Reads protobuf fields from a span; every malformation surfaces as <see cref="ProtoFormatException"/>.</summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    /// <summary>Reads the next tag; false at the end of the data.</summary>
    public bool TryReadTag(out int field, out ProtoWireType wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (ProtoWireType)(tag & 7);
        if (field <= 0 || tag > int.MaxValue)
        {
            throw new ProtoFormatException("invalid field tag");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new ProtoFormatException("truncated varint");
            }

            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new ProtoFormatException("varint too long");
    }

    public uint ReadUInt32() => (uint)ReadVarint();

    public ulong ReadFixed64()
    {
        if (_data.Length - _position < 8)
        {
            throw new ProtoFormatException("truncated fixed64");
        }

        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw new ProtoFormatException("truncated length-delimited field");
        }

        var value = _data.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    /// <summary>Reads a value of the expected wire type or fails; a mismatched wire type is malformed input.</summary>
    public void Expect(ProtoWireType actual, ProtoWireType expected)
    {
        if (actual != expected)
        {
            throw new ProtoFormatException("unexpected wire type");
        }
    }

    /// <summary>Reads a varint field as uint32; a field of another wire type is malformed input.</summary>
    public uint ReadUInt32(ProtoWireType wireType)
    {
        Expect(wireType, ProtoWireType.Varint);
        return ReadUInt32();
    }

    /// <summary>Reads a length-delimited field's bytes (a view of the input); a field of another wire type is malformed input.</summary>
    public ReadOnlySpan<byte> ReadBytes(ProtoWireType wireType)
    {
        Expect(wireType, ProtoWireType.LengthDelimited);
        return ReadLengthDelimited();
    }

    public void Skip(ProtoWireType wireType)
    {
        switch (wireType)
        {
            case ProtoWireType.Varint:
                ReadVarint();
                break;
            case ProtoWireType.Fixed64:
                ReadFixed64();
                break;
            case ProtoWireType.LengthDelimited:
                ReadLengthDelimited();
                break;
            case ProtoWireType.Fixed32:
                if (_data.Length - _position < 4)
                {
                    throw new ProtoFormatException("truncated fixed32");
                }

                _position += 4;
                break;
            default:
                throw new ProtoFormatException("unsupported wire type");
        }
    }
}
