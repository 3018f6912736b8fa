namespace Parley.Server.Limits;

/// <summary>The abuse limits whose refusals are counted (tag <c>limit</c> of <c>parley.limits.refused</c>).</summary>
public enum LimitKind
{
    /// <summary>A sender's own message rate (RATE_LIMITED).</summary>
    SenderRate,

    /// <summary>One sender's rate to one recipient (RATE_LIMITED).</summary>
    RecipientRate,

    /// <summary>Conversations a sender may start per hour (RATE_LIMITED).</summary>
    NewContacts,

    /// <summary>A recipient device's queue at its cap (RECIPIENT_QUEUE_FULL).</summary>
    QueueFull,

    /// <summary>Prekey bundle fetches per account (RATE_LIMITED).</summary>
    PrekeyFetch,

    /// <summary>Hellos refused after too many failed ones (RATE_LIMITED, close 1008).</summary>
    HelloBackoff,

    /// <summary>Typing to a user with no conversation (FORBIDDEN).</summary>
    TypingForbidden,

    /// <summary>A read receipt for no message the peer sent the reader (NOT_FOUND).</summary>
    ReadUnknown,
}
