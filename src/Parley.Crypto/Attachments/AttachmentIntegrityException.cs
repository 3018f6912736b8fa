namespace Parley.Crypto.Attachments;

/// <summary>
/// Thrown when an attachment blob fails authentication. Any plaintext already written to the
/// output stream is unauthenticated and must be discarded; a seekable output is truncated back.
/// </summary>
public sealed class AttachmentIntegrityException : CryptoException
{
    /// <summary>Creates the exception for one failure kind.</summary>
    public AttachmentIntegrityException(AttachmentIntegrityFailure failure)
        : base(Describe(failure))
    {
        Failure = failure;
    }

    /// <summary>Which check failed.</summary>
    public AttachmentIntegrityFailure Failure { get; }

    private static string Describe(AttachmentIntegrityFailure failure) => failure switch
    {
        AttachmentIntegrityFailure.Truncated => "Attachment blob is truncated or malformed.",
        AttachmentIntegrityFailure.BadMac => "Attachment MAC does not match.",
        AttachmentIntegrityFailure.DigestMismatch => "Attachment digest does not match the announced digest.",
        AttachmentIntegrityFailure.BadPadding => "Attachment padding is invalid.",
        AttachmentIntegrityFailure.LengthMismatch => "Attachment is shorter than its declared length.",
        _ => "Attachment failed integrity checks.",
    };
}
