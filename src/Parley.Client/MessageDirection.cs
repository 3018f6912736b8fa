namespace Parley.Client;

/// <summary>Whether a stored message was written by this account (on any of its devices) or by the peer.</summary>
public enum MessageDirection
{
    /// <summary>From the peer to this account.</summary>
    Incoming = 0,

    /// <summary>From this account (this device or, as a sync copy, another of its devices) to the peer.</summary>
    Outgoing = 1,
}
