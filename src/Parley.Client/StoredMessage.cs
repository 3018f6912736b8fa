namespace Parley.Client;

/// <summary>One message as kept in the local store; identified by (<see cref="Sender"/>, <see cref="Id"/>).</summary>
/// <param name="Id">The message id in text form (a UUIDv7 with dashes).</param>
/// <param name="Peer">The other user of the conversation, or <c>#</c> and the group id for a group message.</param>
/// <param name="Direction">Incoming from the peer, or outgoing from this account.</param>
/// <param name="Sender">The user who wrote it.</param>
/// <param name="SenderDevice">The device that wrote it.</param>
/// <param name="Text">The text.</param>
/// <param name="SentAt">The sender's clock when it was written.</param>
/// <param name="Status">Its delivery status.</param>
public sealed record StoredMessage(
    string Id,
    string Peer,
    MessageDirection Direction,
    string Sender,
    uint SenderDevice,
    string Text,
    DateTimeOffset SentAt,
    MessageStatus Status)
{
    /// <summary>The group id (32 hex characters) when this is a group message (<see cref="Peer"/> is then <c>#</c> and the id), else null.</summary>
    public string? GroupId => Groups.GroupConversation.IsGroup(Peer) ? Peer[1..] : null;
}
