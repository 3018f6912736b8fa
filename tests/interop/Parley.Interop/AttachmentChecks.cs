using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Parley.Crypto.Attachments;

namespace Parley.Interop;

/// <summary>
/// Attachment blobs against an independent implementation of Signal's layout in node's crypto
/// (libsignal itself has no attachment API), both directions, plain and padded.
/// </summary>
internal static class AttachmentChecks
{
    private static readonly int[] Sizes = [0, 1, 16, 541, 65_536, 65_537, 300_000];

    public static async Task RunAsync(CheckRunner runner, Oracle oracle)
    {
        await runner.RunAsync($"attachment: {Sizes.Length} Parley blobs (plain and padded) open in node's independent implementation", async () =>
        {
            foreach (int size in Sizes)
            {
                byte[] original = RandomNumberGenerator.GetBytes(size);
                using var key = AttachmentKey.Generate();
                foreach (bool padded in new[] { false, true })
                {
                    using var blob = new MemoryStream();
                    EncryptedAttachment result = padded
                        ? AttachmentCipher.EncryptPadded(new MemoryStream(original), size, blob, key)
                        : AttachmentCipher.Encrypt(new MemoryStream(original), blob, key);
                    JsonObject opened = await oracle.CallAsync("attachment.decrypt", new JsonObject
                    {
                        ["key"] = Oracle.B64(key.ToArray()), ["blob"] = Oracle.B64(blob.ToArray()), ["digest"] = Oracle.B64(result.Digest), ["length"] = size,
                    });
                    CheckFailedException.UnlessEqual(original, Oracle.Bytes(opened, "plaintext"), $"{size} bytes, padded {padded}");
                }
            }
        });

        await runner.RunAsync($"attachment: {Sizes.Length} node blobs open in Parley; a flipped bit is rejected", async () =>
        {
            foreach (int size in Sizes)
            {
                byte[] original = RandomNumberGenerator.GetBytes(size);
                using var key = AttachmentKey.Generate();
                JsonObject sealedBlob = await oracle.CallAsync("attachment.encrypt", new JsonObject { ["key"] = Oracle.B64(key.ToArray()), ["plaintext"] = Oracle.B64(original) });
                byte[] blob = Oracle.Bytes(sealedBlob, "blob");
                byte[] digest = Oracle.Bytes(sealedBlob, "digest");
                using var output = new MemoryStream();
                AttachmentCipher.Decrypt(new MemoryStream(blob), output, key, digest);
                CheckFailedException.UnlessEqual(original, output.ToArray(), $"{size} bytes");

                blob[blob.Length / 2] ^= 0x01;
                try
                {
                    AttachmentCipher.Decrypt(new MemoryStream(blob), new MemoryStream(), key, digest);
                    throw new CheckFailedException($"{size} bytes: a tampered blob was accepted");
                }
                catch (AttachmentIntegrityException)
                {
                }
            }
        });
    }
}
