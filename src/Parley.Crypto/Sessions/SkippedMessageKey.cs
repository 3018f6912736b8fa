using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>
/// A message key kept for a message not yet received. Stored as the 32-byte chain seed (as current libsignal
/// does); records written by older libsignal versions carry the expanded keys instead.
/// </summary>
internal sealed record SkippedMessageKey(uint Index, byte[]? Seed, MessageKeys? Keys)
{
    /// <summary>Fresh key material the caller may zero: states share entries with their copies, so stored arrays are never handed out.</summary>
    public MessageKeys ToMessageKeys()
    {
        if (Keys is { } keys)
        {
            return new MessageKeys((byte[])keys.CipherKey.Clone(), (byte[])keys.MacKey.Clone(), (byte[])keys.Iv.Clone(), Index);
        }

        return MessageKeys.Derive(Seed ?? throw new InvalidSessionException("Skipped message key has neither seed nor keys."), Index);
    }
}
