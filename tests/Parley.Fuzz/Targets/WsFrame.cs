using System.Buffers.Binary;

namespace Parley.Fuzz.Targets;

/// <summary>
/// One RFC 6455 frame as the framing fuzzer mutates it: header bits, mask, payload (unmasked),
/// and how its length is written (7-bit, 16-bit, 64-bit form, and by how much it lies).
/// </summary>
public sealed record WsFrame(byte First, bool Masked, int LengthForm, long LengthLie, uint Mask, byte[] Payload)
{
    public const byte Continuation = 0x0, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>A well-formed masked client frame.</summary>
    public static WsFrame Of(byte opcode, byte[] payload, bool fin = true) =>
        new((byte)((fin ? 0x80 : 0) | opcode), true, payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 1 : 2, 0, 0x1F2E3D4C, payload);

    /// <summary>Splits a byte stream into frames, leniently; bytes that do not make a whole frame become <paramref name="tail"/>.</summary>
    public static List<WsFrame> Split(byte[] stream, out byte[] tail)
    {
        var frames = new List<WsFrame>();
        int at = 0;
        while (true)
        {
            if (stream.Length - at < 2)
            {
                break;
            }
            byte b0 = stream[at], b1 = stream[at + 1];
            bool masked = (b1 & 0x80) != 0;
            int form = (b1 & 0x7F) switch { 126 => 1, 127 => 2, _ => 0 };
            int header = 2 + (form == 1 ? 2 : form == 2 ? 8 : 0) + (masked ? 4 : 0);
            if (stream.Length - at < header)
            {
                break;
            }
            ulong length = form switch
            {
                0 => (ulong)(b1 & 0x7F),
                1 => BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(at + 2)),
                _ => BinaryPrimitives.ReadUInt64BigEndian(stream.AsSpan(at + 2)),
            };
            if (length > (ulong)(stream.Length - at - header))
            {
                break;
            }
            uint mask = masked ? BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at + header - 4)) : 0;
            var payload = stream.AsSpan(at + header, (int)length).ToArray();
            ApplyMask(payload, mask);
            frames.Add(new WsFrame(b0, masked, form, 0, mask, payload));
            at += header + (int)length;
        }
        tail = stream[at..];
        return frames;
    }

    /// <summary>The frames and tail back as one byte stream.</summary>
    public static byte[] Join(IEnumerable<WsFrame> frames, byte[] tail)
    {
        var output = new List<byte>();
        foreach (var frame in frames)
        {
            frame.WriteTo(output);
        }
        output.AddRange(tail);
        return [.. output];
    }

    private void WriteTo(List<byte> output)
    {
        output.Add(First);
        ulong length = LengthLie == long.MinValue ? ulong.MaxValue : (ulong)Math.Max(0, Payload.Length + LengthLie);
        int form = LengthForm;
        if (form == 0 && length > 125)
        {
            form = length <= ushort.MaxValue ? 1 : 2;
        }
        if (form == 1 && length > ushort.MaxValue)
        {
            form = 2;
        }
        byte maskBit = Masked ? (byte)0x80 : (byte)0;
        Span<byte> word = stackalloc byte[8];
        switch (form)
        {
            case 0:
                output.Add((byte)(maskBit | (byte)length));
                break;
            case 1:
                output.Add((byte)(maskBit | 126));
                BinaryPrimitives.WriteUInt16BigEndian(word, (ushort)length);
                output.AddRange(word[..2].ToArray());
                break;
            default:
                output.Add((byte)(maskBit | 127));
                BinaryPrimitives.WriteUInt64BigEndian(word, length);
                output.AddRange(word.ToArray());
                break;
        }
        var payload = (byte[])Payload.Clone();
        if (Masked)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, Mask);
            output.AddRange(word[..4].ToArray());
            ApplyMask(payload, Mask);
        }
        output.AddRange(payload);
    }

    private static void ApplyMask(byte[] payload, uint mask)
    {
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= (byte)(mask >> (8 * (3 - (i & 3))));
        }
    }
}
