using System.Buffers;
using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Protobuf;

namespace Parley.Crypto.Messages;

/// <summary>
/// A Double Ratchet message, byte-compatible with libsignal: version byte ((v &lt;&lt; 4) | 4), the
/// SignalMessage protobuf (ratchet key, counter, previous counter, ciphertext), then an 8-byte MAC =
/// HMAC-SHA256(mac key, sender identity ‖ receiver identity ‖ version byte ‖ protobuf) truncated.
/// </summary>
public sealed class SignalMessage : CiphertextMessage
{
    /// <summary>Length of the truncated MAC.</summary>
    public const int MacLength = 8;

    private readonly byte[] _serialized;
    private readonly ReadOnlyMemory<byte> _body;

    private SignalMessage(byte version, EcPublicKey senderRatchetKey, uint counter, uint previousCounter, ReadOnlyMemory<byte> body, byte[] serialized)
    {
        MessageVersion = version;
        SenderRatchetKey = senderRatchetKey;
        Counter = counter;
        PreviousCounter = previousCounter;
        _body = body;
        _serialized = serialized;
    }

    /// <inheritdoc />
    public override CiphertextMessageType Type => CiphertextMessageType.Whisper;

    /// <inheritdoc />
    public override ReadOnlyMemory<byte> SerializedMemory => _serialized;

    /// <summary>Session version (3 for X3DH, 4 for PQXDH).</summary>
    public byte MessageVersion { get; }

    /// <summary>The sender's current ratchet public key.</summary>
    public EcPublicKey SenderRatchetKey { get; }

    /// <summary>Index of this message in the sender's chain.</summary>
    public uint Counter { get; }

    /// <summary>Length of the sender's previous chain.</summary>
    public uint PreviousCounter { get; }

    /// <summary>The AES-256-CBC ciphertext.</summary>
    public ReadOnlyMemory<byte> Body => _body;

    /// <summary>Parses wire bytes; anything malformed or of an unknown version throws <see cref="InvalidMessageException"/>.</summary>
    public static SignalMessage Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length < MacLength + 1)
        {
            throw new InvalidMessageException($"Signal message too short ({serialized.Length} bytes).");
        }

        byte version = (byte)(serialized[0] >> 4);
        MessageVersions.Check(version);

        var copy = serialized.ToArray();
        ReadOnlySpan<byte> ratchetKey = default;
        bool hasRatchetKey = false;
        uint? counter = null;
        uint previousCounter = 0;
        int bodyOffset = -1, bodyLength = 0;
        try
        {
            var proto = copy.AsSpan(1, copy.Length - 1 - MacLength);
            var reader = new ProtoReader(proto);
            while (reader.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        ratchetKey = reader.ReadBytes(wire);
                        hasRatchetKey = true;
                        break;
                    case 2:
                        counter = reader.ReadUInt32(wire);
                        break;
                    case 3:
                        previousCounter = reader.ReadUInt32(wire);
                        break;
                    case 4:
                        var body = reader.ReadBytes(wire);
                        bodyLength = body.Length;
                        bodyOffset = 1 + reader.Position - body.Length;
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (ProtoFormatException e)
        {
            throw new InvalidMessageException("Malformed Signal message: " + e.Message, e);
        }

        if (!hasRatchetKey || counter is null || bodyOffset < 0)
        {
            throw new InvalidMessageException("Signal message lacks a ratchet key, counter or ciphertext.");
        }

        EcPublicKey senderRatchetKey;
        try
        {
            senderRatchetKey = EcPublicKey.Deserialize(ratchetKey);
        }
        catch (InvalidKeyException e)
        {
            throw new InvalidMessageException("Signal message has an invalid ratchet key.", e);
        }

        return new SignalMessage(version, senderRatchetKey, counter.Value, previousCounter, copy.AsMemory(bodyOffset, bodyLength), copy);
    }

    /// <summary>Builds and MACs a message (sender side).</summary>
    internal static SignalMessage Create(
        byte version,
        ReadOnlySpan<byte> macKey,
        EcPublicKey senderRatchetKey,
        uint counter,
        uint previousCounter,
        byte[] ciphertext,
        IdentityKey senderIdentity,
        IdentityKey receiverIdentity)
    {
        var ratchetKey = senderRatchetKey.SerializedBytes;
        int protoLength = ProtoSize.BytesField(1, ratchetKey.Length)
            + ProtoSize.UInt32Field(2, counter)
            + ProtoSize.UInt32Field(3, previousCounter)
            + ProtoSize.BytesField(4, ciphertext.Length);
        var serialized = new byte[1 + protoLength + MacLength];
        serialized[0] = MessageVersions.VersionByte(version);
        var writer = new ProtoSpanWriter(serialized.AsSpan(1));
        writer.WriteBytesField(1, ratchetKey);
        writer.WriteUInt32Field(2, counter);
        writer.WriteUInt32Field(3, previousCounter);
        writer.WriteBytesField(4, ciphertext);

        ComputeMac(senderIdentity, receiverIdentity, macKey, serialized.AsSpan(0, 1 + protoLength), serialized.AsSpan(1 + protoLength));
        var bodyOffset = serialized.Length - MacLength - ciphertext.Length;
        return new SignalMessage(version, senderRatchetKey, counter, previousCounter, serialized.AsMemory(bodyOffset, ciphertext.Length), serialized);
    }

    /// <summary>Checks the MAC in constant time.</summary>
    internal bool VerifyMac(IdentityKey senderIdentity, IdentityKey receiverIdentity, ReadOnlySpan<byte> macKey)
    {
        Span<byte> ours = stackalloc byte[MacLength];
        ComputeMac(senderIdentity, receiverIdentity, macKey, _serialized.AsSpan(0, _serialized.Length - MacLength), ours);
        return CryptographicOperations.FixedTimeEquals(ours, _serialized.AsSpan(_serialized.Length - MacLength));
    }

    private static void ComputeMac(IdentityKey sender, IdentityKey receiver, ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> message, Span<byte> mac)
    {
        var senderBytes = sender.PublicKey.SerializedBytes;
        var receiverBytes = receiver.PublicKey.SerializedBytes;
        int length = senderBytes.Length + receiverBytes.Length + message.Length;
        byte[]? rented = null;
        Span<byte> input = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        senderBytes.CopyTo(input);
        receiverBytes.CopyTo(input[senderBytes.Length..]);
        message.CopyTo(input[(senderBytes.Length + receiverBytes.Length)..]);
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(macKey, input, full);
        full[..MacLength].CopyTo(mac);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
