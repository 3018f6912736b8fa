namespace Parley.Crypto.Protobuf;

/// <summary>Writes protobuf fields into a caller-sized span (sizes come from <see cref="ProtoSize"/>).</summary>
internal ref struct ProtoSpanWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public ProtoSpanWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_position++] = (byte)value;
    }

    public void WriteTag(int field, ProtoWireType wireType) => WriteVarint(((uint)field << 3) | (uint)wireType);

    public void WriteUInt32Field(int field, uint value)
    {
        WriteTag(field, ProtoWireType.Varint);
        WriteVarint(value);
    }

    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, ProtoWireType.LengthDelimited);
        WriteVarint((uint)value.Length);
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }
}
