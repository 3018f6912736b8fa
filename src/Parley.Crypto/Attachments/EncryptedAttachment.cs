namespace Parley.Crypto.Attachments;

/// <summary>
/// What the sender puts in the message next to the upload link: the SHA-256 digest of the whole
/// ciphertext blob (IV ‖ ciphertext ‖ MAC) and the sizes of both sides.
/// </summary>
/// <param name="Digest">SHA-256 of the complete blob as uploaded; the receiver checks it.</param>
/// <param name="PlaintextLength">Bytes read from the plaintext stream.</param>
/// <param name="CiphertextLength">Bytes written to the output stream (IV, ciphertext and MAC).</param>
public sealed record EncryptedAttachment(byte[] Digest, long PlaintextLength, long CiphertextLength);
