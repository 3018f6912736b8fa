namespace Parley.Crypto.Attachments;

/// <summary>Why an attachment blob was rejected.</summary>
public enum AttachmentIntegrityFailure
{
    /// <summary>The blob is shorter than IV + one cipher block + MAC, or not block-aligned.</summary>
    Truncated,

    /// <summary>The HMAC-SHA256 over IV ‖ ciphertext does not match: wrong key or tampered bytes.</summary>
    BadMac,

    /// <summary>The SHA-256 of the blob differs from the digest the sender announced.</summary>
    DigestMismatch,

    /// <summary>The MAC matched but the padding did not decode, which only a sender bug produces.</summary>
    BadPadding,

    /// <summary>The blob holds fewer plaintext bytes than the length the message declares.</summary>
    LengthMismatch,
}
