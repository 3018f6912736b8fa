using System.Security.Cryptography;
using Parley.Crypto.Ciphers;

namespace Parley.Crypto.Attachments;

/// <summary>
/// Incremental AES-256-CBC + HMAC-SHA256 over an attachment, fed in whole cipher blocks so that
/// stream loops (sync and async) share one implementation. CBC is chained by hand: encrypting
/// block-aligned chunks with the previous chunk's last ciphertext block as IV equals one long CBC.
/// </summary>
internal sealed class AttachmentEncryptor : IDisposable
{
    internal const int BlockSize = 16;
    internal const int MacSize = 32;

    private readonly AesCbc _aes;
    private readonly IncrementalHash _mac;
    private readonly IncrementalHash _digest;
    private readonly byte[] _chain = new byte[BlockSize];

    internal AttachmentEncryptor(AttachmentKey key, ReadOnlySpan<byte> iv)
    {
        _aes = new AesCbc(key.CipherKey);
        _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.MacKey);
        _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        iv.CopyTo(_chain);
    }

    /// <summary>Writes the IV, which starts the blob and is covered by MAC and digest.</summary>
    internal int Start(Span<byte> destination)
    {
        _chain.CopyTo(destination);
        Absorb(destination[..BlockSize]);
        return BlockSize;
    }

    /// <summary>Encrypts whole blocks; destination must be at least as long as the input.</summary>
    internal int Update(ReadOnlySpan<byte> blocks, Span<byte> destination)
    {
        if (blocks.IsEmpty)
        {
            return 0;
        }

        int written = _aes.EncryptBlocks(blocks, _chain, destination);
        destination.Slice(written - BlockSize, BlockSize).CopyTo(_chain);
        Absorb(destination[..written]);
        return written;
    }

    /// <summary>Encrypts the tail with PKCS#7 padding and appends the MAC.</summary>
    internal int Finish(ReadOnlySpan<byte> tail, Span<byte> destination, out byte[] digest)
    {
        int written = _aes.EncryptPkcs7(tail, _chain, destination);
        Absorb(destination[..written]);
        _mac.GetHashAndReset(destination.Slice(written, MacSize));
        _digest.AppendData(destination.Slice(written, MacSize));
        digest = _digest.GetHashAndReset();
        return written + MacSize;
    }

    /// <summary>Largest output of <see cref="Finish"/> for a tail of the given length.</summary>
    internal static int FinishSize(int tailLength) => (tailLength / BlockSize + 1) * BlockSize + MacSize;

    private void Absorb(ReadOnlySpan<byte> blob)
    {
        _mac.AppendData(blob);
        _digest.AppendData(blob);
    }

    public void Dispose()
    {
        _aes.Dispose();
        _mac.Dispose();
        _digest.Dispose();
    }
}
