namespace Parley.Client.Storage;

/// <summary>
/// What sync between an account's devices needs from a client store (ParleyClient.Sync.cs): the
/// chat list, and verified marks set by another device of the account. Every method is atomic on
/// its own and statement-level (usable inside <see cref="IClientStore.Atomically{T}"/>).
/// </summary>
internal interface ISyncStore
{
    /// <summary>
    /// Every conversation with at least one stored message, the one with the latest stored message
    /// first: that message and the number of incoming messages not yet Read.
    /// </summary>
    IReadOnlyList<ConversationActivity> ConversationSummaries();

    /// <summary>
    /// Applies another device's verified mark for <paramref name="user"/>'s account key
    /// <paramref name="key"/>. Verified: the key is marked verified when it is the key known here, and
    /// becomes the known key (verified) when none is known yet. Not verified: the mark is cleared when
    /// <paramref name="key"/> is the key known here. Returns false, changing nothing, when another key
    /// is known here.
    /// </summary>
    bool ApplyVerifiedSync(string user, byte[] key, bool verified);
}
