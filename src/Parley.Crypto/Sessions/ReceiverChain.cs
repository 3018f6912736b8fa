using Parley.Crypto.Keys;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>
/// One receiving chain: the remote ratchet key it belongs to, its chain key, and skipped message keys (oldest
/// first). Immutable, so session copies share chains and an update replaces the chain in its state.
/// </summary>
internal sealed class ReceiverChain
{
    private static readonly IReadOnlyList<SkippedMessageKey> NoKeys = [];

    public ReceiverChain(EcPublicKey ratchetKey, ChainKey chainKey, IReadOnlyList<SkippedMessageKey>? messageKeys = null)
    {
        RatchetKey = ratchetKey;
        ChainKey = chainKey;
        MessageKeys = messageKeys ?? NoKeys;
    }

    public EcPublicKey RatchetKey { get; }

    public ChainKey ChainKey { get; }

    public IReadOnlyList<SkippedMessageKey> MessageKeys { get; }
}
