using System.Buffers;
using System.Security.Cryptography;

namespace Parley.Crypto.Attachments;

/// <summary>
/// Encrypts and decrypts attachments in Signal's layout, IV(16) ‖ AES-256-CBC ciphertext ‖
/// HMAC-SHA256(IV ‖ ciphertext)(32), streaming in fixed-size chunks so a file of any size is
/// never held whole in memory. The SHA-256 of the whole blob is the digest the sender announces.
/// <see cref="EncryptPadded"/> also pads the plaintext to Signal's size buckets so the server
/// learns a size class, not the exact size.
/// </summary>
public static class AttachmentCipher
{
    /// <summary>Length of the digest in bytes.</summary>
    public const int DigestLength = 32;

    // A multiple of the AES block size; big enough to amortise calls, small enough for the pool.
    private const int ChunkSize = 64 * 1024;

    // Decryption reads a chunk plus the bytes that may turn out to be the MAC.
    private const int DecryptCapacity = ChunkSize + AttachmentDecryptor.Reserve;

    /// <summary>Bytes the blob adds on top of the plaintext length (IV, padding, MAC).</summary>
    public static long CiphertextLength(long plaintextLength) =>
        AttachmentEncryptor.BlockSize + (plaintextLength / AttachmentEncryptor.BlockSize + 1) * AttachmentEncryptor.BlockSize + AttachmentEncryptor.MacSize;

    /// <summary>
    /// Signal's size bucket for a file: at least 541 bytes, else the next power of 1.05, so the
    /// server sees a size class rather than the exact size, for at most 5% more bytes.
    /// </summary>
    public static long PaddedLength(long plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        const long minimum = 541;
        if (plaintextLength <= minimum)
        {
            return minimum;
        }

        long bucket = (long)Math.Floor(Math.Pow(1.05, Math.Ceiling(Math.Log(plaintextLength) / Math.Log(1.05))));
        // Floating point may land one step low at an exact bucket boundary; never pad below the size.
        return Math.Max(bucket, plaintextLength);
    }

    /// <summary>
    /// Encrypts exactly <paramref name="plaintextLength"/> bytes of <paramref name="plaintext"/>
    /// followed by zeros up to <see cref="PaddedLength"/>, as Signal does; send the unpadded
    /// length in the message and pass it to decryption, which drops the padding.
    /// </summary>
    /// <exception cref="InvalidOperationException">The plaintext ends before <paramref name="plaintextLength"/> bytes.</exception>
    public static EncryptedAttachment EncryptPadded(Stream plaintext, long plaintextLength, Stream output, AttachmentKey key)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var padded = new PaddedReadStream(plaintext, plaintextLength, PaddedLength(plaintextLength));
        return Encrypt(padded, output, key) with { PlaintextLength = plaintextLength };
    }

    /// <summary>Asynchronous <see cref="EncryptPadded"/>.</summary>
    public static async Task<EncryptedAttachment> EncryptPaddedAsync(
        Stream plaintext, long plaintextLength, Stream output, AttachmentKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var padded = new PaddedReadStream(plaintext, plaintextLength, PaddedLength(plaintextLength));
        EncryptedAttachment result = await EncryptAsync(padded, output, key, cancellationToken).ConfigureAwait(false);
        return result with { PlaintextLength = plaintextLength };
    }

    /// <summary>Encrypts <paramref name="plaintext"/> to <paramref name="output"/> under a fresh random IV.</summary>
    public static EncryptedAttachment Encrypt(Stream plaintext, Stream output, AttachmentKey key) =>
        Encrypt(plaintext, output, key, RandomNumberGenerator.GetBytes(AttachmentEncryptor.BlockSize));

    /// <summary>Encrypts with a caller-chosen IV; only for fixed test vectors.</summary>
    internal static EncryptedAttachment Encrypt(Stream plaintext, Stream output, AttachmentKey key, ReadOnlySpan<byte> iv)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(key);
        using var encryptor = new AttachmentEncryptor(key, iv);
        byte[] input = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(AttachmentEncryptor.FinishSize(ChunkSize));
        try
        {
            long plaintextLength = 0;
            long written = encryptor.Start(buffer);
            output.Write(buffer, 0, (int)written);
            while (true)
            {
                int read = plaintext.ReadAtLeast(input.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                plaintextLength += read;
                int n = EncryptStep(encryptor, input, read, buffer, out byte[]? digest);
                output.Write(buffer, 0, n);
                written += n;
                if (digest is not null)
                {
                    return new EncryptedAttachment(digest, plaintextLength, written);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>Encrypts <paramref name="plaintext"/> to <paramref name="output"/> under a fresh random IV.</summary>
    public static async Task<EncryptedAttachment> EncryptAsync(
        Stream plaintext, Stream output, AttachmentKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(key);
        using var encryptor = new AttachmentEncryptor(key, RandomNumberGenerator.GetBytes(AttachmentEncryptor.BlockSize));
        byte[] input = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(AttachmentEncryptor.FinishSize(ChunkSize));
        try
        {
            long plaintextLength = 0;
            long written = encryptor.Start(buffer);
            await output.WriteAsync(buffer.AsMemory(0, (int)written), cancellationToken).ConfigureAwait(false);
            while (true)
            {
                int read = await plaintext.ReadAtLeastAsync(input.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                plaintextLength += read;
                int n = EncryptStep(encryptor, input, read, buffer, out byte[]? digest);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                written += n;
                if (digest is not null)
                {
                    return new EncryptedAttachment(digest, plaintextLength, written);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// Checks and decrypts a blob into <paramref name="plaintext"/> and returns the plaintext length.
    /// Returns only when MAC and digest both matched. On failure it throws
    /// <see cref="AttachmentIntegrityException"/>, the end of the plaintext is never written, and a
    /// seekable output is cut back to where it started; a non-seekable output (a socket, a pipe)
    /// may hold unauthenticated leading plaintext that the caller must discard, so prefer
    /// decrypting into a temporary file and moving it into place after success. With
    /// <paramref name="plaintextLength"/> (the length the message declares, for padded blobs) only
    /// that many bytes are written, and a blob holding fewer is rejected.
    /// </summary>
    public static long Decrypt(Stream blob, Stream plaintext, AttachmentKey key, ReadOnlySpan<byte> expectedDigest, long? plaintextLength = null)
    {
        long limit = DecryptLimit(blob, plaintext, key, expectedDigest, plaintextLength);
        long start = plaintext.CanSeek ? plaintext.Position : -1;
        using var decryptor = new AttachmentDecryptor(key, expectedDigest);
        byte[] input = ArrayPool<byte>.Shared.Rent(DecryptCapacity);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DecryptCapacity);
        try
        {
            int ivLength = blob.ReadAtLeast(input.AsSpan(0, AttachmentEncryptor.BlockSize), AttachmentEncryptor.BlockSize, throwOnEndOfStream: false);
            if (ivLength < AttachmentEncryptor.BlockSize)
            {
                throw new AttachmentIntegrityException(AttachmentIntegrityFailure.Truncated);
            }

            decryptor.Start(input.AsSpan(0, AttachmentEncryptor.BlockSize));
            long written = 0;
            int held = 0;
            while (true)
            {
                held += blob.ReadAtLeast(input.AsSpan(held, DecryptCapacity - held), DecryptCapacity - held, throwOnEndOfStream: false);
                int keep = DecryptStep(decryptor, input, ref held, buffer, written, limit, out bool end);
                plaintext.Write(buffer, 0, keep);
                written += keep;
                if (end)
                {
                    return written;
                }
            }
        }
        catch (AttachmentIntegrityException)
        {
            Retract(plaintext, start);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// Checks and decrypts a blob into <paramref name="plaintext"/>; same guarantees as
    /// <see cref="Decrypt(Stream, Stream, AttachmentKey, ReadOnlySpan{byte}, long?)"/>.
    /// </summary>
    public static async Task<long> DecryptAsync(
        Stream blob, Stream plaintext, AttachmentKey key, ReadOnlyMemory<byte> expectedDigest, long? plaintextLength = null, CancellationToken cancellationToken = default)
    {
        long limit = DecryptLimit(blob, plaintext, key, expectedDigest.Span, plaintextLength);
        long start = plaintext.CanSeek ? plaintext.Position : -1;
        using var decryptor = new AttachmentDecryptor(key, expectedDigest.Span);
        byte[] input = ArrayPool<byte>.Shared.Rent(DecryptCapacity);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DecryptCapacity);
        try
        {
            int ivLength = await blob.ReadAtLeastAsync(input.AsMemory(0, AttachmentEncryptor.BlockSize), AttachmentEncryptor.BlockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (ivLength < AttachmentEncryptor.BlockSize)
            {
                throw new AttachmentIntegrityException(AttachmentIntegrityFailure.Truncated);
            }

            decryptor.Start(input.AsSpan(0, AttachmentEncryptor.BlockSize));
            long written = 0;
            int held = 0;
            while (true)
            {
                held += await blob.ReadAtLeastAsync(input.AsMemory(held, DecryptCapacity - held), DecryptCapacity - held, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                int keep = DecryptStep(decryptor, input, ref held, buffer, written, limit, out bool end);
                await plaintext.WriteAsync(buffer.AsMemory(0, keep), cancellationToken).ConfigureAwait(false);
                written += keep;
                if (end)
                {
                    return written;
                }
            }
        }
        catch (AttachmentIntegrityException)
        {
            Retract(plaintext, start);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    // One turn of the encrypt loop after a read of `read` bytes: a short read is the end of the
    // plaintext (padding and MAC are added, and the digest comes out), a full one encrypts a chunk.
    // Returns how many bytes of `buffer` to write.
    private static int EncryptStep(AttachmentEncryptor encryptor, byte[] input, int read, byte[] buffer, out byte[]? digest)
    {
        if (read < ChunkSize)
        {
            return encryptor.Finish(input.AsSpan(0, read), buffer, out digest);
        }

        digest = null;
        return encryptor.Update(input.AsSpan(0, ChunkSize), buffer);
    }

    // The argument checks both Decrypt overloads make; returns how many plaintext bytes may be written.
    private static long DecryptLimit(Stream blob, Stream plaintext, AttachmentKey key, ReadOnlySpan<byte> expectedDigest, long? plaintextLength)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(key);
        CheckDigestLength(expectedDigest);
        long limit = plaintextLength ?? long.MaxValue;
        ArgumentOutOfRangeException.ThrowIfNegative(limit, nameof(plaintextLength));
        return limit;
    }

    // One turn of the decrypt loop once a read has filled `input` to `held` bytes: a short read is the
    // end of the blob (MAC and digest are checked), a full one decrypts a chunk and keeps the last
    // Reserve bytes (they may be the MAC) for the next read. Returns how many bytes of `buffer` to write.
    private static int DecryptStep(AttachmentDecryptor decryptor, byte[] input, ref int held, byte[] buffer, long written, long limit, out bool end)
    {
        end = held < DecryptCapacity;
        if (end)
        {
            int last = decryptor.Finish(input.AsSpan(0, held), buffer);
            return Keep(written, last, limit, final: true);
        }

        int n = decryptor.Update(input.AsSpan(0, ChunkSize), buffer);
        input.AsSpan(ChunkSize, AttachmentDecryptor.Reserve).CopyTo(input);
        held = AttachmentDecryptor.Reserve;
        return Keep(written, n, limit, final: false);
    }

    // How many of the next `count` plaintext bytes to write: padding past the declared length is
    // dropped, and at the end a blob shorter than declared is rejected.
    private static int Keep(long written, int count, long limit, bool final)
    {
        int keep = (int)Math.Min(count, limit - written);
        if (final && limit != long.MaxValue && written + keep < limit)
        {
            throw new AttachmentIntegrityException(AttachmentIntegrityFailure.LengthMismatch);
        }

        return keep;
    }

    private static void CheckDigestLength(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != DigestLength)
        {
            throw new ArgumentException($"An attachment digest is {DigestLength} bytes, got {digest.Length}.", nameof(digest));
        }
    }

    // Unauthenticated plaintext must not survive a failed check where we can take it back.
    private static void Retract(Stream plaintext, long start)
    {
        if (start >= 0)
        {
            plaintext.SetLength(start);
            plaintext.Position = start;
        }
    }
}
