namespace Parley.Client.Events;

/// <summary>An outgoing (or incoming, for Read) message moved forward to <see cref="Status"/>.</summary>
public sealed class MessageStatusChangedEventArgs(string messageId, string peer, MessageStatus status) : EventArgs
{
    /// <summary>The message id in text form.</summary>
    public string MessageId { get; } = messageId;

    /// <summary>The conversation the message belongs to.</summary>
    public string Peer { get; } = peer;

    /// <summary>The new status; always later than the previous one.</summary>
    public MessageStatus Status { get; } = status;
}
