using System.Security.Cryptography;

namespace Parley.Crypto.Groups;

/// <summary>
/// One step of a sender chain: the message key seed is HMAC-SHA256(chain key, 0x01) and the
/// next chain key HMAC-SHA256(chain key, 0x02).
/// </summary>
internal sealed class SenderChainKey
{
    private static readonly byte[] MessageKeySeed = [0x01];
    private static readonly byte[] ChainKeySeed = [0x02];

    internal SenderChainKey(uint iteration, byte[] seed)
    {
        Iteration = iteration;
        Seed = seed;
    }

    internal uint Iteration { get; }

    internal byte[] Seed { get; }

    /// <exception cref="InvalidMessageException">The chain has reached 2^32 messages.</exception>
    internal SenderChainKey Next()
    {
        if (Iteration == uint.MaxValue)
        {
            throw new InvalidMessageException("Sender chain is too long.");
        }

        return new SenderChainKey(Iteration + 1, HMACSHA256.HashData(Seed, ChainKeySeed));
    }

    internal SenderMessageKey MessageKey() => new(Iteration, HMACSHA256.HashData(Seed, MessageKeySeed));
}
