using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Parley.Bench.Wire;

/// <summary>
/// RFC 6455 framing as a client speaks it: frames it sends are masked (FIN set, 7/16/64-bit
/// lengths); frames from the server are not.
/// </summary>
internal static class WebSocketFraming
{
    public const int Continuation = 0x0, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>Header bytes of a client frame with <paramref name="payloadLength"/> payload bytes (mask key included).</summary>
    public static int ClientHeaderSize(int payloadLength) => payloadLength < 126 ? 6 : payloadLength <= ushort.MaxValue ? 8 : 14;

    /// <summary>Writes a final client frame's header with <paramref name="mask"/> as its key; returns its size.</summary>
    public static int WriteClientHeader(Span<byte> destination, int opcode, int payloadLength, uint mask)
    {
        destination[0] = (byte)(0x80 | opcode);
        int at;
        if (payloadLength < 126)
        {
            destination[1] = (byte)(0x80 | payloadLength);
            at = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            at = 4;
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            at = 10;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], mask);
        return at + 4;
    }

    /// <summary>XORs <paramref name="payload"/> with the key <paramref name="mask"/> wrote little-endian into the header.</summary>
    public static void Mask(Span<byte> payload, uint mask)
    {
        ulong wide = mask | ((ulong)mask << 32);
        var words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] ^= wide;
        }
        // Little-endian: byte k of the key is bits 8k..8k+7 of the mask.
        for (int i = words.Length * 8; i < payload.Length; i++)
        {
            payload[i] ^= (byte)(mask >> (8 * (i & 3)));
        }
    }

    /// <summary>
    /// Reads a server frame's header from the start of <paramref name="data"/>. False when more
    /// bytes are needed; throws <see cref="InvalidDataException"/> on what a server must not send
    /// (a masked frame, reserved bits, a length past <paramref name="maxPayload"/>).
    /// </summary>
    public static bool TryReadServerHeader(ReadOnlySpan<byte> data, int maxPayload, out bool fin, out int opcode, out int headerLength, out int payloadLength)
    {
        fin = false;
        opcode = headerLength = payloadLength = 0;
        if (data.Length < 2)
        {
            return false;
        }
        byte b0 = data[0], b1 = data[1];
        if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0)
        {
            throw new InvalidDataException($"server frame with reserved bits or a mask (0x{b0:x2} 0x{b1:x2})");
        }
        fin = (b0 & 0x80) != 0;
        opcode = b0 & 0x0F;
        ulong length = (ulong)(b1 & 0x7F);
        int at = 2;
        if (length == 126)
        {
            if (data.Length < 4)
            {
                return false;
            }
            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            at = 4;
        }
        else if (length == 127)
        {
            if (data.Length < 10)
            {
                return false;
            }
            length = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            at = 10;
        }
        if (length > (ulong)maxPayload)
        {
            throw new InvalidDataException($"server frame of {length} bytes");
        }
        headerLength = at;
        payloadLength = (int)length;
        return true;
    }
}
