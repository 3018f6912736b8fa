using System.Buffers.Binary;

namespace Parley.Bench.Wire;

/// <summary>
/// The few fields of a ServerFrame the one-to-one scenario needs, read straight from the frame's
/// bytes (protobuf wire format) without building message objects: the generator parses every
/// frame the server sends, and allocating a ServerFrame, an Envelope and their byte strings per
/// frame cost it as much CPU as the server spends per message.
/// </summary>
internal readonly ref struct ServerFrameView
{
    // ServerFrame field numbers (proto/parley.proto).
    public const int SendResultField = 3, AckResultField = 4, ErrorField = 6, EnvelopeField = 10, QueueEmptyField = 11;

    public ulong RequestId { get; init; }

    /// <summary>The oneof body's field number (0 when none).</summary>
    public int Body { get; init; }

    public ulong Seq { get; init; }

    public int Kind { get; init; }

    /// <summary>The envelope payload (empty for receipts).</summary>
    public ReadOnlySpan<byte> Payload { get; init; }

    public int ReceiptIds { get; init; }

    public int UnknownSeqs { get; init; }

    public int ErrorCode { get; init; }

    /// <summary>Reads a ServerFrame's bytes; throws <see cref="FormatException"/> on malformed input.</summary>
    public static ServerFrameView Parse(ReadOnlySpan<byte> frame)
    {
        ulong requestId = 0, seq = 0;
        int body = 0, kind = 0, receiptIds = 0, unknownSeqs = 0, errorCode = 0;
        ReadOnlySpan<byte> payload = default;
        while (!frame.IsEmpty)
        {
            var (field, wire) = Tag(ref frame);
            if (field == 1 && wire == 0)
            {
                requestId = Varint(ref frame);
            }
            else if (wire == 2)
            {
                var inner = Bytes(ref frame);
                body = field;
                switch (field)
                {
                    case EnvelopeField:
                        while (!inner.IsEmpty)
                        {
                            var (f, w) = Tag(ref inner);
                            if (f == 1 && w == 0) { seq = Varint(ref inner); }
                            else if (f == 2 && w == 0) { kind = (int)Varint(ref inner); }
                            else if (f == 9 && w == 2) { payload = Bytes(ref inner); }
                            else if (f == 10 && w == 2) { Bytes(ref inner); receiptIds++; }
                            else { Skip(ref inner, w); }
                        }
                        break;
                    case AckResultField:
                        while (!inner.IsEmpty)
                        {
                            var (f, w) = Tag(ref inner);
                            if (f == 2 && w == 2)
                            {
                                var packed = Bytes(ref inner);
                                while (!packed.IsEmpty) { Varint(ref packed); unknownSeqs++; }
                            }
                            else if (f == 2 && w == 0) { Varint(ref inner); unknownSeqs++; }
                            else { Skip(ref inner, w); }
                        }
                        break;
                    case ErrorField:
                        while (!inner.IsEmpty)
                        {
                            var (f, w) = Tag(ref inner);
                            if (f == 1 && w == 0) { errorCode = (int)Varint(ref inner); }
                            else { Skip(ref inner, w); }
                        }
                        break;
                    default:
                        break;
                }
            }
            else
            {
                Skip(ref frame, wire);
            }
        }
        return new ServerFrameView
        {
            RequestId = requestId, Body = body, Seq = seq, Kind = kind, Payload = payload,
            ReceiptIds = receiptIds, UnknownSeqs = unknownSeqs, ErrorCode = errorCode,
        };
    }

    private static (int Field, int Wire) Tag(scoped ref ReadOnlySpan<byte> data)
    {
        ulong tag = Varint(ref data);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong Varint(scoped ref ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        for (int shift = 0, i = 0; shift < 64; shift += 7, i++)
        {
            if (i >= data.Length)
            {
                throw new FormatException("truncated varint");
            }
            byte b = data[i];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                data = data[(i + 1)..];
                return value;
            }
        }
        throw new FormatException("varint too long");
    }

    private static ReadOnlySpan<byte> Bytes(scoped ref ReadOnlySpan<byte> data)
    {
        ulong length = Varint(ref data);
        if (length > (ulong)data.Length)
        {
            throw new FormatException("truncated field");
        }
        var value = data[..(int)length];
        data = data[(int)length..];
        return value;
    }

    private static void Skip(scoped ref ReadOnlySpan<byte> data, int wire)
    {
        switch (wire)
        {
            case 0: Varint(ref data); break;
            case 1: data = data[8..]; break;
            case 2: Bytes(ref data); break;
            case 5: data = data[4..]; break;
            default: throw new FormatException($"wire type {wire}");
        }
    }

    /// <summary>The send timestamp the sender put in the payload's first 8 bytes.</summary>
    public long PayloadTimestamp => BinaryPrimitives.ReadInt64LittleEndian(Payload);
}
