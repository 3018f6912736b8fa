namespace Parley.Crypto.Messages;

/// <summary>libsignal's ciphertext message type numbers; the envelope carries this so the receiver knows how to parse the bytes.</summary>
public enum CiphertextMessageType
{
    /// <summary>A <see cref="SignalMessage"/> on an established session.</summary>
    Whisper = 2,

    /// <summary>A <see cref="PreKeySignalMessage"/> that also sets the session up.</summary>
    PreKey = 3,

    /// <summary>A group Sender Key message.</summary>
    SenderKey = 7,

    /// <summary>Unencrypted content (decryption-error notices).</summary>
    Plaintext = 8,
}
