using System.Security.Cryptography;

namespace Parley.Crypto.Ratchet;

/// <summary>
/// A symmetric-ratchet chain key: message-key seed = HMAC-SHA256(key, 0x01), next chain key =
/// HMAC-SHA256(key, 0x02), as libsignal. Immutable: stepping returns a new value.
/// </summary>
internal readonly struct ChainKey
{
    private static readonly byte[] MessageKeySeed = [0x01];
    private static readonly byte[] ChainKeySeed = [0x02];

    public ChainKey(byte[] key, uint index)
    {
        Key = key;
        Index = index;
    }

    public byte[] Key { get; }

    public uint Index { get; }

    public ChainKey Next()
    {
        var next = new byte[32];
        HMACSHA256.HashData(Key, ChainKeySeed, next);
        return new ChainKey(next, Index + 1);
    }

    /// <summary>The seed from which this step's message keys are derived (libsignal stores skipped keys in this form).</summary>
    public byte[] MessageKeySeedBytes()
    {
        var seed = new byte[32];
        HMACSHA256.HashData(Key, MessageKeySeed, seed);
        return seed;
    }

    public MessageKeys MessageKeys()
    {
        Span<byte> seed = stackalloc byte[32];
        HMACSHA256.HashData(Key, MessageKeySeed, seed);
        var keys = Ratchet.MessageKeys.Derive(seed, Index);
        CryptographicOperations.ZeroMemory(seed);
        return keys;
    }
}
