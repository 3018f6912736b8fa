namespace Parley.Client.Storage;

/// <summary>The history half of a client store: what an approving device reads to send a newly linked device.</summary>
internal interface IHistoryStore
{
    /// <summary>
    /// The stored messages written at or after <paramref name="sentAtFrom"/> (unix milliseconds,
    /// the sender's clock), of every conversation, in this device's conversation order (the order
    /// they were stored), with their current status.
    /// </summary>
    IReadOnlyList<StoredMessage> MessagesSince(long sentAtFrom);
}
