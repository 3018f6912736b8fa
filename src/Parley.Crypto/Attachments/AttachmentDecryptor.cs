using System.Security.Cryptography;
using Parley.Crypto.Ciphers;

namespace Parley.Crypto.Attachments;

/// <summary>
/// Incremental check-and-decrypt of an attachment blob. Bulk blocks are decrypted before the MAC
/// is known (the blob may not fit in memory); the last block, and with it the end of the
/// plaintext, is released only after MAC and digest have matched.
/// </summary>
internal sealed class AttachmentDecryptor : IDisposable
{
    private const int BlockSize = AttachmentEncryptor.BlockSize;
    private const int MacSize = AttachmentEncryptor.MacSize;

    private readonly AesCbc _aes;
    private readonly IncrementalHash _mac;
    private readonly IncrementalHash _digest;
    private readonly byte[] _expectedDigest;
    private readonly byte[] _chain = new byte[BlockSize];

    internal AttachmentDecryptor(AttachmentKey key, ReadOnlySpan<byte> expectedDigest)
    {
        _aes = new AesCbc(key.CipherKey);
        _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.MacKey);
        _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _expectedDigest = expectedDigest.ToArray();
    }

    /// <summary>Bytes the stream loop must keep back until it knows it has reached the end.</summary>
    internal const int Reserve = MacSize + BlockSize;

    /// <summary>Takes the 16-byte IV that starts the blob.</summary>
    internal void Start(ReadOnlySpan<byte> iv)
    {
        iv.CopyTo(_chain);
        _mac.AppendData(iv);
        _digest.AppendData(iv);
    }

    /// <summary>Decrypts whole blocks that are known not to be the last one.</summary>
    internal int Update(ReadOnlySpan<byte> blocks, Span<byte> destination)
    {
        if (blocks.IsEmpty)
        {
            return 0;
        }

        _mac.AppendData(blocks);
        _digest.AppendData(blocks);
        int written = _aes.DecryptBlocks(blocks, _chain, destination);
        blocks[^BlockSize..].CopyTo(_chain);
        return written;
    }

    /// <summary>
    /// Takes the final blocks followed by the MAC; checks MAC (constant time) and digest before
    /// decrypting and unpadding them.
    /// </summary>
    /// <exception cref="AttachmentIntegrityException">Any check failed.</exception>
    internal int Finish(ReadOnlySpan<byte> tailAndMac, Span<byte> destination)
    {
        int cipherLength = tailAndMac.Length - MacSize;
        if (cipherLength < BlockSize || cipherLength % BlockSize != 0)
        {
            throw new AttachmentIntegrityException(AttachmentIntegrityFailure.Truncated);
        }

        ReadOnlySpan<byte> tail = tailAndMac[..cipherLength];
        ReadOnlySpan<byte> theirMac = tailAndMac[cipherLength..];
        _mac.AppendData(tail);
        _digest.AppendData(tailAndMac);

        Span<byte> ourMac = stackalloc byte[MacSize];
        _mac.GetHashAndReset(ourMac);
        if (!CryptographicOperations.FixedTimeEquals(ourMac, theirMac))
        {
            throw new AttachmentIntegrityException(AttachmentIntegrityFailure.BadMac);
        }

        Span<byte> ourDigest = stackalloc byte[32];
        _digest.GetHashAndReset(ourDigest);
        if (!CryptographicOperations.FixedTimeEquals(ourDigest, _expectedDigest))
        {
            throw new AttachmentIntegrityException(AttachmentIntegrityFailure.DigestMismatch);
        }

        try
        {
            return _aes.DecryptPkcs7(tail, _chain, destination);
        }
        catch (CryptographicException)
        {
            throw new AttachmentIntegrityException(AttachmentIntegrityFailure.BadPadding);
        }
    }

    public void Dispose()
    {
        _aes.Dispose();
        _mac.Dispose();
        _digest.Dispose();
    }
}
