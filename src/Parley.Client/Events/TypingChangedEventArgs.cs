namespace Parley.Client.Events;

/// <summary>A peer device started or stopped typing in the conversation with this account.</summary>
public sealed class TypingChangedEventArgs(string user, uint deviceId, bool typing) : EventArgs
{
    /// <summary>The user typing.</summary>
    public string User { get; } = user;

    /// <summary>The device typing.</summary>
    public uint DeviceId { get; } = deviceId;

    /// <summary>True while typing.</summary>
    public bool Typing { get; } = typing;
}
