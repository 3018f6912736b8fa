namespace Parley.Crypto;

/// <summary>
/// Every bound the 1:1 protocol enforces, in one place. The values are libsignal's, so both ends of a
/// conversation agree on what is acceptable.
/// </summary>
public static class ProtocolLimits
{
    /// <summary>
    /// How far ahead of the receiving chain a message counter may be (25,000). Bounds the work and memory an
    /// attacker can force with one forged counter, while tolerating long offline periods.
    /// </summary>
    public const int MaxForwardJumps = 25_000;

    /// <summary>Skipped message keys kept per receiving chain (2,000); the oldest are dropped beyond this, and their messages can no longer be decrypted.</summary>
    public const int MaxMessageKeys = 2_000;

    /// <summary>Receiving chains kept per session (5): enough for messages delayed across a few ratchet turns.</summary>
    public const int MaxReceiverChains = 5;

    /// <summary>Previous session states kept per record (40), so messages from a superseded session still decrypt.</summary>
    public const int ArchivedStatesMaxLength = 40;

    /// <summary>How long an initiator keeps sending PreKey messages without an answer before the session counts as stale (30 days).</summary>
    public static readonly TimeSpan MaxUnacknowledgedSessionAge = TimeSpan.FromDays(30);
}
