using Parley.Crypto.Keys;

namespace Parley.Crypto.Groups;

/// <summary>
/// One sender chain: its id, the next chain key, the signing key (private half only on the
/// sender's own device) and message keys kept for messages that arrive out of order.
/// </summary>
internal sealed class SenderKeyState
{
    // Seeds only; the HKDF expansion happens when a key is used. Oldest first.
    private readonly LinkedList<(uint Iteration, byte[] Seed)> _skipped = new();

    internal SenderKeyState(byte messageVersion, uint chainId, SenderChainKey chainKey, EcPublicKey signingKey, EcPrivateKey? signingPrivateKey)
    {
        MessageVersion = messageVersion;
        ChainId = chainId;
        ChainKey = chainKey;
        SigningKey = signingKey;
        SigningPrivateKey = signingPrivateKey;
    }

    internal byte MessageVersion { get; }

    internal uint ChainId { get; }

    internal SenderChainKey ChainKey { get; set; }

    internal EcPublicKey SigningKey { get; }

    internal EcPrivateKey? SigningPrivateKey { get; }

    internal IEnumerable<(uint Iteration, byte[] Seed)> SkippedKeys => _skipped;

    internal int SkippedCount => _skipped.Count;

    internal void AddSkipped(uint iteration, byte[] seed)
    {
        _skipped.AddLast((iteration, seed));
        while (_skipped.Count > SenderKeyLimits.MaxMessageKeys)
        {
            _skipped.RemoveFirst();
        }
    }

    internal SenderMessageKey? TakeSkipped(uint iteration)
    {
        for (var node = _skipped.First; node is not null; node = node.Next)
        {
            if (node.Value.Iteration == iteration)
            {
                _skipped.Remove(node);
                return new SenderMessageKey(iteration, node.Value.Seed);
            }
        }

        return null;
    }

    /// <summary>
    /// The message key for <paramref name="iteration"/>, advancing the chain and keeping the keys
    /// it skips (libsignal's rules: an old iteration must be a kept key, else it is a duplicate;
    /// a jump beyond <see cref="SenderKeyLimits.MaxForwardJumps"/> is refused).
    /// </summary>
    internal SenderMessageKey MessageKeyFor(uint iteration)
    {
        SenderChainKey chainKey = ChainKey;
        if (chainKey.Iteration > iteration)
        {
            return TakeSkipped(iteration)
                ?? throw new DuplicateMessageException($"Sender key message for iteration {iteration} was already received (chain at {chainKey.Iteration}).");
        }

        if (iteration - chainKey.Iteration > SenderKeyLimits.MaxForwardJumps)
        {
            throw new InvalidMessageException($"Sender key message is too far in the future (iteration {iteration}, chain at {chainKey.Iteration}).");
        }

        while (chainKey.Iteration < iteration)
        {
            SenderMessageKey skipped = chainKey.MessageKey();
            AddSkipped(skipped.Iteration, skipped.Seed);
            chainKey = chainKey.Next();
        }

        ChainKey = chainKey.Next();
        return chainKey.MessageKey();
    }
}
