namespace Parley.Crypto.Groups;

/// <summary>
/// Bounds on Sender Key state, equal to libsignal's so a Parley client and a libsignal client
/// accept and reject the same messages. The two shared with 1:1 sessions come from
/// <see cref="ProtocolLimits"/>, so there is one value for each.
/// </summary>
public static class SenderKeyLimits
{
    /// <summary>
    /// Skipped message keys kept per chain for out-of-order messages; the oldest goes first.
    /// Bounds what a sender can make a receiver store (2,000 × ~40 bytes).
    /// </summary>
    public const int MaxMessageKeys = ProtocolLimits.MaxMessageKeys;

    /// <summary>
    /// Largest iteration jump one message may ask for. Each skipped step costs two HMACs, so
    /// this bounds the work a forged or runaway iteration can cause.
    /// </summary>
    public const int MaxForwardJumps = ProtocolLimits.MaxForwardJumps;

    /// <summary>Chains (sender key states) remembered per sender and distribution, newest first.</summary>
    public const int MaxStates = 5;

    /// <summary>The Sender Key message version: the high and low nibble of the first byte.</summary>
    public const byte MessageVersion = 3;
}
