namespace Parley.Client.Events;

/// <summary>A subscribed user came online (first device) or went offline (last device), or a snapshot entry.</summary>
public sealed class PresenceChangedEventArgs(string user, bool online, DateTimeOffset? lastSeen) : EventArgs
{
    /// <summary>The user.</summary>
    public string User { get; } = user;

    /// <summary>True when at least one of the user's devices is connected.</summary>
    public bool Online { get; } = online;

    /// <summary>When the user was last seen online; null when never.</summary>
    public DateTimeOffset? LastSeen { get; } = lastSeen;
}
