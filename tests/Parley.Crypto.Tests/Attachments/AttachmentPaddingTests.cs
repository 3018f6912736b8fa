using System.Security.Cryptography;
using Parley.Crypto.Attachments;

namespace Parley.Crypto.Tests.Attachments;

public class AttachmentPaddingTests
{
    [Theory]
    [InlineData(0, 541)]
    [InlineData(1, 541)]
    [InlineData(541, 541)]
    [InlineData(542, 568)]
    [InlineData(1000, 1020)]
    [InlineData(65_536, 67_789)]
    [InlineData(1_000_000, 1_041_743)]
    public void Padded_lengths_are_signals_buckets(long size, long padded)
    {
        Assert.Equal(padded, AttachmentCipher.PaddedLength(size));
    }

    [Fact]
    public void A_bucket_is_never_below_the_size_nor_more_than_5_percent_above_it()
    {
        var random = new Random(5);
        for (int i = 0; i < 10_000; i++)
        {
            long size = random.NextInt64(542, 4L << 30);
            long padded = AttachmentCipher.PaddedLength(size);
            Assert.InRange(padded, size, (long)(size * 1.05) + 1);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(541)]
    [InlineData(542)]
    [InlineData(70_000)]
    [InlineData(200_001)]
    public void A_padded_attachment_decrypts_to_exactly_the_declared_bytes(int size)
    {
        byte[] original = RandomNumberGenerator.GetBytes(size);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();

        EncryptedAttachment result = AttachmentCipher.EncryptPadded(new MemoryStream(original), size, blob, key);

        Assert.Equal(size, result.PlaintextLength);
        Assert.Equal(AttachmentCipher.CiphertextLength(AttachmentCipher.PaddedLength(size)), blob.Length);
        using var exact = new MemoryStream();
        Assert.Equal(size, AttachmentCipher.Decrypt(new MemoryStream(blob.ToArray()), exact, key, result.Digest, plaintextLength: size));
        Assert.Equal(original, exact.ToArray());

        using var withPadding = new MemoryStream();
        AttachmentCipher.Decrypt(new MemoryStream(blob.ToArray()), withPadding, key, result.Digest);
        Assert.Equal(AttachmentCipher.PaddedLength(size), withPadding.Length);
        Assert.All(withPadding.ToArray()[size..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Async_padded_round_trip_over_unseekable_streams_returns_the_original_bytes()
    {
        byte[] original = RandomNumberGenerator.GetBytes(150_000);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();

        EncryptedAttachment result = await AttachmentCipher.EncryptPaddedAsync(new TricklingStream(original, 3_333), original.Length, blob, key);

        using var output = new MemoryStream();
        await AttachmentCipher.DecryptAsync(new TricklingStream(blob.ToArray(), 5_000), output, key, result.Digest, original.Length);
        Assert.Equal(original, output.ToArray());
    }

    [Fact]
    public void A_plaintext_shorter_than_declared_is_refused_when_encrypting()
    {
        using var key = AttachmentKey.Generate();

        Assert.Throws<InvalidOperationException>(
            () => AttachmentCipher.EncryptPadded(new MemoryStream(new byte[100]), 101, new MemoryStream(), key));
    }

    [Fact]
    public void Only_the_declared_bytes_are_read_from_a_longer_plaintext()
    {
        byte[] original = RandomNumberGenerator.GetBytes(1000);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();

        EncryptedAttachment result = AttachmentCipher.EncryptPadded(new MemoryStream(original), 600, blob, key);

        using var output = new MemoryStream();
        AttachmentCipher.Decrypt(new MemoryStream(blob.ToArray()), output, key, result.Digest, 600);
        Assert.Equal(original[..600], output.ToArray());
    }

    [Fact]
    public void A_blob_shorter_than_the_declared_length_is_rejected_and_leaves_nothing()
    {
        byte[] original = RandomNumberGenerator.GetBytes(100_000);
        using var key = AttachmentKey.Generate();
        using var blob = new MemoryStream();
        EncryptedAttachment result = AttachmentCipher.Encrypt(new MemoryStream(original), blob, key);
        using var output = new MemoryStream();

        var error = Assert.Throws<AttachmentIntegrityException>(
            () => AttachmentCipher.Decrypt(new MemoryStream(blob.ToArray()), output, key, result.Digest, plaintextLength: 100_001));

        Assert.Equal(AttachmentIntegrityFailure.LengthMismatch, error.Failure);
        Assert.Equal(0, output.Length);
    }
}
