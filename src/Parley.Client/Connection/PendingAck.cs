namespace Parley.Client.Connection;

/// <summary>
/// The seq of a stored envelope waiting for the ack pump; <paramref name="CanWait"/> when it is a
/// receipt's, which may be held back to ride with a later ack (see <see cref="ParleyClientOptions.ReceiptAckDelay"/>).
/// </summary>
internal readonly record struct PendingAck(ulong Seq, bool CanWait);
