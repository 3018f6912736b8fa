namespace Parley.Client.Events;

/// <summary>
/// The device's storage refused to write what the client changed (in the browser: IndexedDB, for
/// example when the storage quota is full). Nothing is lost yet: the changes stay in memory and are
/// written by the next flush, and whatever waits on them (acks, sends) waits until one succeeds.
/// </summary>
public sealed class StorageFailedEventArgs(ParleyException error) : EventArgs
{
    /// <summary>What the storage answered (ApiCode <c>storage_failed</c>, the storage's error inside).</summary>
    public ParleyException Error { get; } = error;
}
