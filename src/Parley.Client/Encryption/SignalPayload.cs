using Parley.Crypto;
using Parley.Crypto.Messages;
using Parley.Protocol;

namespace Parley.Client.Encryption;

/// <summary>
/// The client convention for a device payload (docs/protocol.md, "Payload encryption"): one header
/// byte, then a libsignal 1:1 message. The header's low 7 bits are <see cref="CiphertextMessage.Type"/>
/// (3 = PreKey, 2 = Whisper); its top bit marks a resend, whose plaintext starts with the 16-byte id
/// of the original message (inside the ciphertext, so the server cannot alter it) before the
/// serialized <c>Content</c>.
/// </summary>
internal static class SignalPayload
{
    /// <summary>Header bit of a resend answering a retry request.</summary>
    public const byte ResendFlag = 0x80;

    /// <summary>The wire bytes for <paramref name="message"/>.</summary>
    public static byte[] Encode(CiphertextMessage message, bool resend)
    {
        var body = message.SerializedMemory.Span;
        var payload = new byte[1 + body.Length];
        payload[0] = (byte)((byte)message.Type | (resend ? ResendFlag : 0));
        body.CopyTo(payload.AsSpan(1));
        return payload;
    }

    /// <summary>Parses the header and message; throws <see cref="InvalidMessageException"/> for anything else.</summary>
    public static (CiphertextMessage Message, bool Resend) Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2)
        {
            throw new InvalidMessageException("The payload is too short to be an encrypted message.");
        }
        var type = (CiphertextMessageType)(payload[0] & ~ResendFlag);
        if (type is not (CiphertextMessageType.Whisper or CiphertextMessageType.PreKey))
        {
            throw new InvalidMessageException($"Unknown payload type {payload[0]}.");
        }
        return (CiphertextMessage.Deserialize(type, payload[1..]), (payload[0] & ResendFlag) != 0);
    }

    /// <summary>Plaintext of a resend: the original id, then the content.</summary>
    public static byte[] ResendPlaintext(ReadOnlySpan<byte> originalId, ReadOnlySpan<byte> content)
    {
        var plain = new byte[originalId.Length + content.Length];
        originalId.CopyTo(plain);
        content.CopyTo(plain.AsSpan(originalId.Length));
        return plain;
    }

    /// <summary>Splits a resend's plaintext; throws <see cref="InvalidMessageException"/> when too short.</summary>
    public static (byte[] OriginalId, byte[] Content) SplitResend(byte[] plaintext)
    {
        if (plaintext.Length < WireLimits.MessageIdBytes)
        {
            throw new InvalidMessageException("A resend must start with the original message id.");
        }
        return (plaintext[..WireLimits.MessageIdBytes], plaintext[WireLimits.MessageIdBytes..]);
    }
}
