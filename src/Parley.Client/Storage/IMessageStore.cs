namespace Parley.Client.Storage;

/// <summary>
/// The messages half of a client store: credentials, messages with their status, the durable
/// outbox, the shown/unshown marks and the cached device lists. Every method is atomic on its own.
/// </summary>
internal interface IMessageStore
{
    /// <summary>The saved credentials, or null when this profile has not been registered or linked.</summary>
    DeviceCredentialsProfile? LoadCredentials();

    /// <summary>Saves the credentials (replacing any earlier ones) in one transaction.</summary>
    void SaveCredentials(DeviceCredentialsProfile credentials);

    /// <summary>Stores a new outgoing message (Pending) and its outbox entry together.</summary>
    void AddOutgoing(byte[] id, string peer, string sender, uint senderDevice, string text, long sentAt, byte[] content);

    /// <summary>The oldest unsent outbox entry, or null when the outbox is empty.</summary>
    OutboxEntry? NextOutbox();

    /// <summary>The ids of the outbox entries, oldest first.</summary>
    IReadOnlyList<byte[]> OutboxIds();

    /// <summary>True while <paramref name="id"/> waits in the outbox.</summary>
    bool InOutbox(byte[] id);

    /// <summary>Number of entries still in the outbox.</summary>
    int OutboxCount();

    /// <summary>
    /// Records SENT: removes the outbox entry and moves the message to Sent unless it is already
    /// further along (a receipt can overtake the SendResult). True when the status changed.
    /// </summary>
    bool CompleteOutbox(byte[] id, string sender);

    /// <summary>Removes a send the server refused for good and marks its message Failed.</summary>
    void FailOutbox(byte[] id, string sender);

    /// <summary>Puts an already-sent outgoing message back into the outbox (used to exercise server-side dedup).</summary>
    bool Requeue(byte[] id, string sender, byte[] content);

    /// <summary>
    /// Moves one message of (<paramref name="sender"/>, <paramref name="id"/>) in conversation
    /// <paramref name="peer"/> forward to <paramref name="status"/>; never backwards. Returns the
    /// message when its status changed, else null.
    /// </summary>
    StoredMessage? Advance(string sender, string peer, byte[] id, MessageStatus status);

    /// <summary>
    /// Stores a received message (or a sync copy of one this account sent from another device)
    /// unless (sender, id) is already stored. True when it was new. It goes after everything stored
    /// so far in conversation order, or at <paramref name="order"/> when given: history a linked
    /// device imports takes negative orders (see ParleyClient.History.cs), so it stays before every
    /// message the device stored itself, whenever it is imported. Stored orders are unique.
    /// </summary>
    bool InsertReceived(StoredMessage message, byte[] id, long? order = null);

    /// <summary>
    /// Returns the messages that arrived and were not yet shown (of one conversation, or all), oldest
    /// first, and marks them shown in the same transaction: messages from peers, and the copies of
    /// what this account sent from its other devices. Sends of this device are never returned.
    /// </summary>
    IReadOnlyList<StoredMessage> TakeUnshown(string? peer = null);

    /// <summary>Finds a message by its id (either direction); null when unknown.</summary>
    StoredMessage? Find(byte[] id);

    /// <summary>The last <paramref name="limit"/> messages of the conversation with <paramref name="peer"/>, oldest first.</summary>
    IReadOnlyList<StoredMessage> Conversation(string peer, int limit);

    /// <summary>
    /// The <paramref name="limit"/> messages of the conversation with <paramref name="peer"/> stored just
    /// before the message <paramref name="id"/> of it, oldest first: the page above what a chat shows.
    /// Empty when that message is not in the conversation or is its first.
    /// </summary>
    IReadOnlyList<StoredMessage> ConversationBefore(string peer, byte[] id, int limit);

    /// <summary>The incoming messages of the conversation with <paramref name="peer"/> not yet Read, oldest first.</summary>
    IReadOnlyList<StoredMessage> Unread(string peer);

    /// <summary>The cached device ids of <paramref name="user"/>, or null when not cached.</summary>
    IReadOnlyList<uint>? CachedDevices(string user);

    /// <summary>Replaces the cached device list of <paramref name="user"/>.</summary>
    void CacheDevices(string user, IEnumerable<uint> deviceIds);
}
