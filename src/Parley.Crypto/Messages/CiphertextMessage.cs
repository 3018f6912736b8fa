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
}
