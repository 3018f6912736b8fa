namespace Parley.Crypto.Messages;

/// <summary>An encrypted message ready for the wire: its <see cref="Type"/> tells the receiver how to parse <see cref="Serialize"/>'s bytes.</summary>
public abstract class CiphertextMessage
{
    /// <summary>Which parser the receiver must use.</summary>
    public abstract CiphertextMessageType Type { get; }

    /// <summary>The exact wire bytes (a fresh copy).</summary>
    public byte[] Serialize() => SerializedMemory.ToArray();

    /// <summary>The exact wire bytes without copying.</summary>
    public abstract ReadOnlyMemory<byte> SerializedMemory { get; }

    /// <summary>
    /// Parses a 1:1 message of the given type (the receiver learns the type from whatever carries the bytes).
    /// Malformed bytes, or a type that is not <see cref="CiphertextMessageType.Whisper"/> or
    /// <see cref="CiphertextMessageType.PreKey"/>, throw <see cref="InvalidMessageException"/>.
    /// </summary>
    public static CiphertextMessage Deserialize(CiphertextMessageType type, ReadOnlySpan<byte> serialized) => type switch
    {
        CiphertextMessageType.Whisper => SignalMessage.Deserialize(serialized),
        CiphertextMessageType.PreKey => PreKeySignalMessage.Deserialize(serialized),
        _ => throw new InvalidMessageException($"{type} messages are not 1:1 session messages."),
    };
}
