namespace Parley.Client.Events;

/// <summary>A peer device started or stopped typing in the conversation with this account, or in a group (<see cref="GroupId"/>).</summary>
public sealed class TypingChangedEventArgs(string user, uint deviceId, bool typing, string? groupId = null) : EventArgs
{
    /// <summary>The user typing.</summary>
    public string User { get; } = user;

    /// <summary>The device typing.</summary>
    public uint DeviceId { get; } = deviceId;

    /// <summary>True while typing.</summary>
    public bool Typing { get; } = typing;

    /// <summary>The group (32 hex characters) the user is typing in; null for the 1:1 conversation.</summary>
    public string? GroupId { get; } = groupId;
}
