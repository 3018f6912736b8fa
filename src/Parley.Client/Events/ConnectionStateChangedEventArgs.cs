namespace Parley.Client.Events;

/// <summary>The connection changed state; <see cref="Error"/> says why it dropped, when it did.</summary>
public sealed class ConnectionStateChangedEventArgs(ConnectionState state, Exception? error) : EventArgs
{
    /// <summary>The new state.</summary>
    public ConnectionState State { get; } = state;

    /// <summary>The failure that ended the previous connection, if any.</summary>
    public Exception? Error { get; } = error;
}
