namespace Parley.Client.Events;

/// <summary>
/// An envelope could not be decrypted (no session, a damaged session, or a forged payload), or was
/// decrypted and dropped (see <see cref="Reason"/>). It was acked; when <see cref="RetryRequested"/> is true the sender's device was asked to send it again
/// on a fresh session, so the message still arrives.
/// </summary>
public sealed class DecryptionFailedEventArgs(string sender, uint senderDevice, string messageId, string reason, bool retryRequested) : EventArgs
{
    /// <summary>The user the envelope came from.</summary>
    public string Sender { get; } = sender;

    /// <summary>The device it came from.</summary>
    public uint SenderDevice { get; } = senderDevice;

    /// <summary>The envelope's message id.</summary>
    public string MessageId { get; } = messageId;

    /// <summary>Why it failed: the crypto error's kind, <c>unlisted_device</c> for a device the sender's signed device list does not name, <c>unlisted_identity</c> for a listed device whose message carries another identity key than the list names; for sync between this account's devices <c>sync_mismatch</c> (a sent copy whose envelope disagrees with its transcript), <c>sync_without_transcript</c>, <c>sync_from_peer</c> (a sync message from another account) or <c>verified_other_key</c> (a verified mark for another key than the one known here, not applied). Never key material.</summary>
    public string Reason { get; } = reason;

    /// <summary>Whether a retry request went (durably queued) to the sender's device.</summary>
    public bool RetryRequested { get; } = retryRequested;
}
