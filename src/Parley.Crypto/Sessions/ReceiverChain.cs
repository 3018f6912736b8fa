using Parley.Crypto.Keys;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>One receiving chain: the remote ratchet key it belongs to, its chain key, and skipped message keys (oldest first).</summary>
internal sealed class ReceiverChain
{
    public ReceiverChain(EcPublicKey ratchetKey, ChainKey chainKey, List<SkippedMessageKey> messageKeys)
    {
        RatchetKey = ratchetKey;
        ChainKey = chainKey;
        MessageKeys = messageKeys;
    }

    public EcPublicKey RatchetKey { get; }

    public ChainKey ChainKey { get; set; }

    public List<SkippedMessageKey> MessageKeys { get; }

    public ReceiverChain Clone() => new(RatchetKey, ChainKey, [.. MessageKeys]);
}
