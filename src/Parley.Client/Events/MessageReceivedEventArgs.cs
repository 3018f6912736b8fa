namespace Parley.Client.Events;

/// <summary>A message stored for the first time; raised once per message id, never for a redelivered duplicate.</summary>
public sealed class MessageReceivedEventArgs(StoredMessage message) : EventArgs
{
    /// <summary>The message as stored.</summary>
    public StoredMessage Message { get; } = message;
}
