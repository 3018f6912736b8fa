using System.Security.Cryptography;
using Parley.Crypto.Attachments;

namespace Parley.Crypto.Tests.Attachments;

public class AttachmentCipherTests
{
    public static TheoryData<int> Sizes => new() { 0, 1, 15, 16, 17, 4096, 65_535, 65_536, 65_537, 65_536 + 48, 200_005 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Decrypting_an_encrypted_attachment_returns_the_original_bytes(int size)
    {
        byte[] original = RandomNumberGenerator.GetBytes(size);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();

        EncryptedAttachment result = AttachmentCipher.Encrypt(new MemoryStream(original), blob, key);

        Assert.Equal(size, result.PlaintextLength);
        Assert.Equal(blob.Length, result.CiphertextLength);
        Assert.Equal(AttachmentCipher.CiphertextLength(size), blob.Length);
        using var output = new MemoryStream();
        long length = AttachmentCipher.Decrypt(new MemoryStream(blob.ToArray()), output, key, result.Digest);
        Assert.Equal(size, length);
        Assert.Equal(original, output.ToArray());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Async_round_trip_through_trickling_unseekable_streams_returns_the_original_bytes(int size)
    {
        byte[] original = RandomNumberGenerator.GetBytes(size);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();

        EncryptedAttachment result = await AttachmentCipher.EncryptAsync(new TricklingStream(original, 7_001), blob, key);

        using var output = new MemoryStream();
        long length = await AttachmentCipher.DecryptAsync(new TricklingStream(blob.ToArray(), 999), output, key, result.Digest);
        Assert.Equal(size, length);
        Assert.Equal(original, output.ToArray());
    }

    [Fact]
    public void Blob_is_iv_then_cbc_ciphertext_then_hmac_and_digest_is_sha256_of_the_blob()
    {
        byte[] original = RandomNumberGenerator.GetBytes(100_000);
        byte[] keyBytes = RandomNumberGenerator.GetBytes(AttachmentKey.Length);
        using var key = AttachmentKey.FromBytes(keyBytes);
        using var blob = new MemoryStream();

        EncryptedAttachment result = AttachmentCipher.Encrypt(new MemoryStream(original), blob, key);

        // Recompute the layout with one-shot primitives, independent of the streaming code.
        byte[] bytes = blob.ToArray();
        byte[] iv = bytes[..16];
        byte[] ciphertext = bytes[16..^32];
        byte[] mac = bytes[^32..];
        Assert.Equal(HMACSHA256.HashData(keyBytes.AsSpan(32), bytes.AsSpan(0, bytes.Length - 32)), mac);
        Assert.Equal(SHA256.HashData(bytes), result.Digest);
        using var aes = Aes.Create();
        aes.Key = keyBytes[..32];
        Assert.Equal(original, aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7));
    }

    [Fact]
    public void A_large_file_streams_through_in_constant_memory()
    {
        const long size = 48L * 1024 * 1024 + 5;
        using var key = AttachmentKey.Generate();
        string blobPath = Path.GetTempFileName();
        try
        {
            using var source = GeneratedStream.Source(size);
            long before = GC.GetAllocatedBytesForCurrentThread();
            EncryptedAttachment result;
            using (var blob = new FileStream(blobPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                result = AttachmentCipher.Encrypt(source, blob, key);
            }

            using var sink = GeneratedStream.Sink();
            long length;
            using (var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.None, bufferSize: 0))
            {
                length = AttachmentCipher.Decrypt(blob, sink, key, result.Digest);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(size, length);
            Assert.Equal(source.Hash(), sink.Hash());
            // Holding the file would allocate at least 48 MiB; streaming needs only its pooled chunk buffers.
            Assert.True(allocated < 2 * 1024 * 1024, $"allocated {allocated} bytes");
        }
        finally
        {
            File.Delete(blobPath);
        }
    }

    [Fact]
    public void Encrypting_the_same_file_twice_gives_different_blobs()
    {
        byte[] original = RandomNumberGenerator.GetBytes(64);
        using var key = AttachmentKey.Generate();
        using var first = new MemoryStream();
        using var second = new MemoryStream();

        AttachmentCipher.Encrypt(new MemoryStream(original), first, key);
        AttachmentCipher.Encrypt(new MemoryStream(original), second, key);

        Assert.NotEqual(first.ToArray()[..16], second.ToArray()[..16]);
        Assert.NotEqual(first.ToArray(), second.ToArray());
    }

    public static TheoryData<int> TamperOffsets => new() { 0, 15, 16, 70_000, -49, -33, -32, -1 };

    [Theory]
    [MemberData(nameof(TamperOffsets))]
    public void A_flipped_bit_anywhere_in_the_blob_is_rejected_as_bad_mac(int offset)
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(140_000);
        int index = offset >= 0 ? offset : blob.Length + offset;
        blob[index] ^= 0x01;

        var error = Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), new MemoryStream(), key, result.Digest));
        Assert.Equal(AttachmentIntegrityFailure.BadMac, error.Failure);
    }

    [Fact]
    public void A_digest_that_differs_from_the_announced_one_is_rejected()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(1000);
        byte[] wrongDigest = (byte[])result.Digest.Clone();
        wrongDigest[31] ^= 0x80;

        var error = Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), new MemoryStream(), key, wrongDigest));
        Assert.Equal(AttachmentIntegrityFailure.DigestMismatch, error.Failure);
    }

    [Fact]
    public void The_wrong_key_is_rejected_as_bad_mac()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey _) = MakeBlob(1000);
        using var otherKey = AttachmentKey.Generate();

        var error = Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), new MemoryStream(), otherKey, result.Digest));
        Assert.Equal(AttachmentIntegrityFailure.BadMac, error.Failure);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(47)]
    [InlineData(60)]
    public void A_blob_too_short_or_not_block_aligned_is_rejected_as_truncated(int length)
    {
        using var key = AttachmentKey.Generate();

        var error = Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(new byte[length]), new MemoryStream(), key, new byte[32]));
        Assert.Equal(AttachmentIntegrityFailure.Truncated, error.Failure);
    }

    [Fact]
    public void A_blob_cut_short_by_whole_blocks_is_rejected()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(200_000);

        Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob[..^64]), new MemoryStream(), key, result.Digest));
    }

    [Fact]
    public void A_rejected_blob_leaves_no_plaintext_in_a_seekable_output()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(300_000);
        blob[^1] ^= 0x01;
        using var output = new MemoryStream();
        output.Write([1, 2, 3]);

        Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), output, key, result.Digest));

        Assert.Equal(new byte[] { 1, 2, 3 }, output.ToArray());
    }

    [Fact]
    public async Task A_rejected_blob_leaves_no_plaintext_in_a_seekable_output_async()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(300_000);
        blob[20] ^= 0x01;
        using var output = new MemoryStream();

        await Assert.ThrowsAsync<AttachmentIntegrityException>(
            () => AttachmentCipher.DecryptAsync(new MemoryStream(blob), output, key, result.Digest));

        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void The_last_plaintext_block_is_never_written_before_the_mac_is_checked()
    {
        (byte[] blob, EncryptedAttachment result, AttachmentKey key) = MakeBlob(1000);
        blob[^1] ^= 0x01;
        var output = new TricklingStream([], 1); // unseekable: nothing can be retracted

        Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), output, key, result.Digest));

        Assert.Equal(0, output.BytesWritten);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(65)]
    public void A_key_that_is_not_64_bytes_is_refused(int length)
    {
        Assert.Throws<ArgumentException>(() => AttachmentKey.FromBytes(new byte[length]));
    }

    [Fact]
    public void A_digest_that_is_not_32_bytes_is_refused()
    {
        (byte[] blob, EncryptedAttachment _, AttachmentKey key) = MakeBlob(10);

        Assert.Throws<ArgumentException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob), new MemoryStream(), key, new byte[16]));
    }

    [Fact]
    public void A_disposed_key_can_no_longer_be_used()
    {
        var key = AttachmentKey.Generate();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.ToArray());
        Assert.Throws<ObjectDisposedException>(
            () => AttachmentCipher.Encrypt(new MemoryStream([1]), new MemoryStream(), key));
    }

    [Fact]
    public void Key_bytes_survive_a_round_trip_through_the_message()
    {
        using var key = AttachmentKey.Generate();
        (byte[] blob, EncryptedAttachment result) = Encrypt(key, RandomNumberGenerator.GetBytes(500));

        using var received = AttachmentKey.FromBytes(key.ToArray());
        using var output = new MemoryStream();
        AttachmentCipher.Decrypt(new MemoryStream(blob), output, received, result.Digest);

        Assert.Equal(500, output.Length);
    }

    private static (byte[] Blob, EncryptedAttachment Result, AttachmentKey Key) MakeBlob(int size)
    {
        var key = AttachmentKey.Generate();
        (byte[] blob, EncryptedAttachment result) = Encrypt(key, RandomNumberGenerator.GetBytes(size));
        return (blob, result, key);
    }

    private static (byte[] Blob, EncryptedAttachment Result) Encrypt(AttachmentKey key, byte[] plaintext)
    {
        using var blob = new MemoryStream();
        EncryptedAttachment result = AttachmentCipher.Encrypt(new MemoryStream(plaintext), blob, key);
        return (blob.ToArray(), result);
    }
}
