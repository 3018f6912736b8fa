namespace Parley.Client;

/// <summary>
/// Where a message stands. The numeric order is the order of progress: a status only ever moves
/// forward (Pending → Sent → Delivered → Read), never back.
/// </summary>
public enum MessageStatus
{
    /// <summary>In the outbox: not yet durable on the server.</summary>
    Pending = 0,

    /// <summary>Durable on the server (one tick).</summary>
    Sent = 1,

    /// <summary>Stored by a recipient device (two ticks). Incoming messages start here.</summary>
    Delivered = 2,

    /// <summary>Read by the recipient (blue ticks).</summary>
    Read = 3,

    /// <summary>Refused by the server for good (for example an unknown recipient); it will not be resent.</summary>
    Failed = 9,
}
