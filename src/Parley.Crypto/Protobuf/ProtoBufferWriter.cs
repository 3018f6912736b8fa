using System.Buffers.Binary;

namespace Parley.Crypto.Protobuf;

/// <summary>Growable protobuf writer for storage records, where nested messages make exact pre-sizing awkward.</summary>
internal sealed class ProtoBufferWriter
{
    private byte[] _buffer;
    private int _length;

    public ProtoBufferWriter(int capacity = 256)
    {
        _buffer = new byte[capacity];
    }

    public int Length => _length;

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Zeroes the internal buffer; storage records carry secrets.</summary>
    public void Clear()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_buffer);
        _length = 0;
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length)
        {
            return;
        }

        var bigger = new byte[Math.Max(_buffer.Length * 2, _length + extra)];
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_buffer);
        _buffer = bigger;
    }

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    public void WriteTag(int field, ProtoWireType wireType) => WriteVarint(((uint)field << 3) | (uint)wireType);

    /// <summary>Writes a uint32 field, skipping it when zero (proto3 default).</summary>
    public void WriteUInt32(int field, uint value)
    {
        if (value != 0)
        {
            WriteTag(field, ProtoWireType.Varint);
            WriteVarint(value);
        }
    }

    /// <summary>Writes a uint32 field even when zero (proto2 optional / proto3 optional with presence).</summary>
    public void WriteUInt32Always(int field, uint value)
    {
        WriteTag(field, ProtoWireType.Varint);
        WriteVarint(value);
    }

    /// <summary>Writes an int32 field (negative values take ten bytes, as protobuf specifies), skipping zero.</summary>
    public void WriteInt32(int field, int value)
    {
        if (value != 0)
        {
            WriteTag(field, ProtoWireType.Varint);
            WriteVarint((ulong)(long)value);
        }
    }

    public void WriteUInt64(int field, ulong value)
    {
        if (value != 0)
        {
            WriteTag(field, ProtoWireType.Varint);
            WriteVarint(value);
        }
    }

    public void WriteFixed64(int field, ulong value)
    {
        if (value != 0)
        {
            WriteTag(field, ProtoWireType.Fixed64);
            Ensure(8);
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
            _length += 8;
        }
    }

    /// <summary>Writes a bytes field, skipping it when empty (proto3 default).</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            WriteBytesAlways(field, value);
        }
    }

    public void WriteBytesAlways(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, ProtoWireType.LengthDelimited);
        WriteVarint((uint)value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Writes a nested message produced by <paramref name="write"/>, always present.</summary>
    public void WriteMessage(int field, Action<ProtoBufferWriter> write)
    {
        var nested = new ProtoBufferWriter();
        write(nested);
        WriteBytesAlways(field, nested.WrittenSpan);
        nested.Clear();
    }
}
