namespace Parley.Client.Events;

/// <summary>
/// A peer's identity key changed (a reinstall, a new device with a new key, or an attack): the
/// safety number with them is new. Raised once per change; <see cref="Warning"/> is the line to show.
/// </summary>
public sealed class IdentityChangedEventArgs(string peer, bool wasVerified) : EventArgs
{
    /// <summary>The user whose identity key changed.</summary>
    public string Peer { get; } = peer;

    /// <summary>True when the peer was marked verified: sends to them fail until the new key is accepted.</summary>
    public bool WasVerified { get; } = wasVerified;

    /// <summary>The warning to show the user, e.g. "safety number with bob changed".</summary>
    public string Warning => WasVerified
        ? $"safety number with {Peer} changed; {Peer} was verified, so messages to {Peer} are held until you accept the new key"
        : $"safety number with {Peer} changed";
}
