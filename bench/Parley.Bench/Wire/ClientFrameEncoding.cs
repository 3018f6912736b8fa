using System.Buffers.Binary;
using System.Text;
using Parley.Protocol;

namespace Parley.Bench.Wire;

/// <summary>
/// The ClientFrames the one-to-one driver sends on every message (SendMessage, Ack, Ping),
/// written as protobuf bytes by hand straight into a connection's output buffer: no message
/// objects, no CalculateSize/WriteTo walk. <see cref="SelfCheck"/> parses them back with the
/// generated types so a mistake here fails the run at its start.
/// </summary>
internal static class ClientFrameEncoding
{
    // Tags: (field << 3) | wire type. ClientFrame: request_id 1 (varint), send 3, ack 4, ping 9 (length-delimited).
    private const byte RequestIdTag = 0x08, SendTag = 0x1A, AckTag = 0x22, PingTag = 0x4A;

    // SendMessage: message_id 1, recipient 2, sent_at 3 (varint), payloads 4. kind 5 stays MESSAGE (0): not written.
    private const byte MessageIdTag = 0x0A, RecipientTag = 0x12, SentAtTag = 0x18, PayloadsTag = 0x22;

    // DevicePayload: user 1, device_id 2 (varint), payload 3. Ack: seqs 1 (packed).
    private const byte UserTag = 0x0A, DeviceIdTag = 0x10, PayloadTag = 0x1A, SeqsTag = 0x0A;

    /// <summary>
    /// The SendMessage bytes that address <paramref name="recipient"/>: its recipient field and the
    /// DevicePayload up to the payload bytes (of <paramref name="payloadBytes"/>), which follow.
    /// </summary>
    public static byte[] Address(DeviceCredentials recipient, int payloadBytes)
    {
        var user = Encoding.UTF8.GetBytes(recipient.User);
        int userField = 1 + Varint.Size((ulong)user.Length) + user.Length;
        int devicePayload = userField + 1 + Varint.Size(recipient.DeviceId) + 1 + Varint.Size((ulong)payloadBytes) + payloadBytes;
        var bytes = new byte[userField + 1 + Varint.Size((ulong)devicePayload) + devicePayload - payloadBytes];
        var span = bytes.AsSpan();
        int at = 0;
        span[at++] = RecipientTag;
        at += Varint.Write(span[at..], (ulong)user.Length);
        user.CopyTo(span[at..]);
        at += user.Length;
        span[at++] = PayloadsTag;
        at += Varint.Write(span[at..], (ulong)devicePayload);
        span[at++] = UserTag;
        at += Varint.Write(span[at..], (ulong)user.Length);
        user.CopyTo(span[at..]);
        at += user.Length;
        span[at++] = DeviceIdTag;
        at += Varint.Write(span[at..], recipient.DeviceId);
        span[at++] = PayloadTag;
        at += Varint.Write(span[at..], (ulong)payloadBytes);
        return at == bytes.Length ? bytes : throw new InvalidOperationException("address size");
    }

    /// <summary>Size of a ClientFrame{request_id, send} whose address (see <see cref="Address"/>) is <paramref name="addressLength"/> bytes.</summary>
    public static int SendLength(ulong requestId, long sentAtMs, int addressLength, int payloadBytes) =>
        FrameLength(requestId, SendBodyLength(sentAtMs, addressLength, payloadBytes));

    /// <summary>
    /// Writes ClientFrame{request_id, send{message_id, sent_at, recipient, payloads[1]}} into
    /// <paramref name="frame"/> (exactly <see cref="SendLength"/> bytes), the payload's first 8
    /// bytes replaced by <paramref name="timestamp"/> (little-endian).
    /// </summary>
    public static void WriteSend(Span<byte> frame, ulong requestId, ReadOnlySpan<byte> messageId, long sentAtMs,
        ReadOnlySpan<byte> address, ReadOnlySpan<byte> payload, long timestamp)
    {
        int body = SendBodyLength(sentAtMs, address.Length, payload.Length);
        int at = WriteFrameStart(frame, requestId, SendTag, body);
        frame[at++] = MessageIdTag;
        frame[at++] = (byte)messageId.Length;
        messageId.CopyTo(frame[at..]);
        at += messageId.Length;
        frame[at++] = SentAtTag;
        at += Varint.Write(frame[at..], (ulong)sentAtMs);
        address.CopyTo(frame[at..]);
        at += address.Length;
        payload.CopyTo(frame[at..]);
        BinaryPrimitives.WriteInt64LittleEndian(frame[at..], timestamp);
    }

    /// <summary>Size of ClientFrame{request_id, ack{seqs}}; request id 0 (not written) is fire-and-forget: no AckResult.</summary>
    public static int AckLength(ulong requestId, ReadOnlySpan<ulong> seqs) => FrameLength(requestId, AckBodyLength(seqs));

    public static void WriteAck(Span<byte> frame, ulong requestId, ReadOnlySpan<ulong> seqs)
    {
        int packed = PackedLength(seqs);
        int at = WriteFrameStart(frame, requestId, AckTag, AckBodyLength(seqs));
        frame[at++] = SeqsTag;
        at += Varint.Write(frame[at..], (ulong)packed);
        foreach (ulong seq in seqs)
        {
            at += Varint.Write(frame[at..], seq);
        }
    }

    /// <summary>Size of ClientFrame{request_id, ping{}}.</summary>
    public static int PingLength(ulong requestId) => FrameLength(requestId, 0);

    public static void WritePing(Span<byte> frame, ulong requestId) => WriteFrameStart(frame, requestId, PingTag, 0);

    /// <summary>Encodes one frame of each kind and parses it back with the generated types; throws when they disagree.</summary>
    public static void SelfCheck()
    {
        var recipient = new DeviceCredentials("b0123abcd-42", 3, "secret");
        var messageId = Enumerable.Range(1, WireLimits.MessageIdBytes).Select(i => (byte)i).ToArray();
        var payload = Enumerable.Range(0, 256).Select(i => (byte)(i * 7)).ToArray();
        var address = Address(recipient, payload.Length);
        const ulong requestId = 300;
        const long sentAt = 1_790_000_000_123, timestamp = 0x0102030405060708;
        var send = new byte[SendLength(requestId, sentAt, address.Length, payload.Length)];
        WriteSend(send, requestId, messageId, sentAt, address, payload, timestamp);
        var parsed = ClientFrame.Parser.ParseFrom(send);
        var expectedPayload = (byte[])payload.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(expectedPayload, timestamp);
        bool sendOk = parsed.RequestId == requestId && parsed.BodyCase == ClientFrame.BodyOneofCase.Send
            && parsed.Send.MessageId.Span.SequenceEqual(messageId) && parsed.Send.Recipient == recipient.User
            && parsed.Send.SentAt == sentAt && parsed.Send.Kind == EnvelopeKind.Message && parsed.Send.Payloads.Count == 1
            && parsed.Send.Payloads[0].User == recipient.User && parsed.Send.Payloads[0].DeviceId == recipient.DeviceId
            && parsed.Send.Payloads[0].Payload.Span.SequenceEqual(expectedPayload);

        ulong[] seqs = [1, 127, 128, 300, ulong.MaxValue / 3];
        bool ackOk = true;
        foreach (ulong ackId in (ulong[])[0, requestId])
        {
            var ack = new byte[AckLength(ackId, seqs)];
            WriteAck(ack, ackId, seqs);
            var parsedAck = ClientFrame.Parser.ParseFrom(ack);
            ackOk &= parsedAck.RequestId == ackId && parsedAck.BodyCase == ClientFrame.BodyOneofCase.Ack && parsedAck.Ack.Seqs.SequenceEqual(seqs);
        }

        var ping = new byte[PingLength(requestId)];
        WritePing(ping, requestId);
        var parsedPing = ClientFrame.Parser.ParseFrom(ping);
        bool pingOk = parsedPing.RequestId == requestId && parsedPing.BodyCase == ClientFrame.BodyOneofCase.Ping;
        if (!sendOk || !ackOk || !pingOk)
        {
            throw new InvalidOperationException($"hand-written ClientFrame encoding is wrong (send {sendOk}, ack {ackOk}, ping {pingOk})");
        }
    }

    private static int SendBodyLength(long sentAtMs, int addressLength, int payloadBytes) =>
        2 + WireLimits.MessageIdBytes + 1 + Varint.Size((ulong)sentAtMs) + addressLength + payloadBytes;

    private static int PackedLength(ReadOnlySpan<ulong> seqs)
    {
        int length = 0;
        foreach (ulong seq in seqs)
        {
            length += Varint.Size(seq);
        }
        return length;
    }

    private static int AckBodyLength(ReadOnlySpan<ulong> seqs)
    {
        int packed = PackedLength(seqs);
        return 1 + Varint.Size((ulong)packed) + packed;
    }

    private static int FrameLength(ulong requestId, int bodyLength) =>
        (requestId == 0 ? 0 : 1 + Varint.Size(requestId)) + 1 + Varint.Size((ulong)bodyLength) + bodyLength;

    private static int WriteFrameStart(Span<byte> frame, ulong requestId, byte bodyTag, int bodyLength)
    {
        int at = 0;
        if (requestId != 0)
        {
            frame[at++] = RequestIdTag;
            at += Varint.Write(frame[at..], requestId);
        }
        frame[at++] = bodyTag;
        at += Varint.Write(frame[at..], (ulong)bodyLength);
        return at;
    }
}
