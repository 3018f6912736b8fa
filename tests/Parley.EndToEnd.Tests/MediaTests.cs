using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Parley.Client;
using Parley.Client.Media;

namespace Parley.EndToEnd.Tests;

/// <summary>Encrypted attachments through the real server and real SDK clients: upload, pointer message, download.</summary>
public sealed class MediaTests
{
    private static string MediaStore(TestServer server) => Path.Combine(server.DataDir, "media");

    internal static string WriteFile(string folder, string name, byte[] bytes)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    internal static async Task<Attachment> ReceiveAttachmentAsync(ParleyClient bob, string messageId)
    {
        using var limit = new CancellationTokenSource(Wait.Limit);
        Attachment? attachment;
        while ((attachment = bob.FindAttachment(messageId)) is null)
        {
            // Each sync drains what the server has queued; the pointer message may still be on its way.
            await bob.SyncAsync(limit.Token);
            await Task.Delay(20, limit.Token);
        }
        return attachment!;
    }

    [Fact]
    public async Task Files_of_0_B_1_B_64_KiB_plus_or_minus_1_and_20_MiB_round_trip_byte_for_byte()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var files = server.NewProfileDir();
        foreach (var size in new[] { 0, 1, 65535, 65536, 65537, 20 * 1024 * 1024 })
        {
            var bytes = RandomNumberGenerator.GetBytes(size);
            var path = WriteFile(files, $"file-{size}.bin", bytes);
            var id = await alice.SendFileAsync("bob", path, caption: $"size {size}", cancellationToken: Wait.Token());

            var attachment = await ReceiveAttachmentAsync(bob, id);
            Assert.Equal((long)size, attachment.Size);
            Assert.Equal($"file-{size}.bin", attachment.FileName);
            Assert.Equal($"size {size}", attachment.Caption);
            Assert.Null(attachment.SavedPath);
            var saved = await bob.DownloadAttachmentAsync(id, cancellationToken: Wait.Token());
            Assert.Equal(Path.Combine(bob.ProfileDirectory, "media", $"file-{size}.bin"), saved);
            Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(saved)));
            Assert.Equal(saved, bob.FindAttachment(id)!.SavedPath);
            Assert.Equal(path, alice.FindAttachment(id)!.SavedPath);
        }
    }

    [Fact]
    public async Task An_upload_interrupted_by_a_killed_process_resumes_from_the_server_offset()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bytes = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        var path = WriteFile(server.NewProfileDir(), "video.mp4", bytes);

        // The first run stops once a few MiB are up, as a killed process or a dropped network would.
        using var stop = new CancellationTokenSource();
        alice.TransferProgress += (_, e) =>
        {
            if (e.BytesDone >= 2 * 1024 * 1024)
            {
                stop.Cancel();
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alice.SendFileAsync("bob", path, cancellationToken: stop.Token));
        await alice.DisposeAsync();

        var again = server.Reopen(alice.ProfileDirectory);
        var progress = new ConcurrentQueue<TransferProgressEventArgs>();
        again.TransferProgress += (_, e) => progress.Enqueue(e);
        var id = await again.SendFileAsync("bob", path, cancellationToken: Wait.Token());

        var uploads = progress.Where(p => p.Direction == TransferDirection.Upload).ToArray();
        Assert.True(uploads[0].ResumedFrom > 0, "the second run continued from the server's offset");
        Assert.Equal(uploads[0].ResumedFrom, uploads[0].BytesDone);
        Assert.Equal(uploads[^1].TotalBytes, uploads[^1].BytesDone);
        // One upload on the server, not a second one started over.
        Assert.Single(Directory.EnumerateFiles(MediaStore(server), "*.blob"));
        Assert.Empty(Directory.EnumerateFiles(MediaStore(server), "*.part"));

        await ReceiveAttachmentAsync(bob, id);
        var saved = await bob.DownloadAttachmentAsync(id, cancellationToken: Wait.Token());
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(saved)));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_with_a_range_request()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bytes = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        var id = await alice.SendFileAsync("bob", WriteFile(server.NewProfileDir(), "talk.m4a", bytes), cancellationToken: Wait.Token());
        await ReceiveAttachmentAsync(bob, id);

        using var stop = new CancellationTokenSource();
        void StopEarly(object? sender, TransferProgressEventArgs e)
        {
            if (e.BytesDone >= 1024 * 1024)
            {
                stop.Cancel();
            }
        }
        bob.TransferProgress += StopEarly;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bob.DownloadAttachmentAsync(id, cancellationToken: stop.Token));
        bob.TransferProgress -= StopEarly;
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(bob.ProfileDirectory, "media")));

        var progress = new ConcurrentQueue<TransferProgressEventArgs>();
        bob.TransferProgress += (_, e) => progress.Enqueue(e);
        var saved = await bob.DownloadAttachmentAsync(id, cancellationToken: Wait.Token());
        var first = progress.First();
        Assert.Equal(TransferDirection.Download, first.Direction);
        Assert.True(first.ResumedFrom >= 1024 * 1024, $"resumed from {first.ResumedFrom}");
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(saved)));
    }

    [Fact]
    public async Task A_tampered_blob_is_refused_by_the_receiver_and_nothing_is_saved()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var path = WriteFile(server.NewProfileDir(), "photo.jpg", RandomNumberGenerator.GetBytes(300_000));
        var id = await alice.SendFileAsync("bob", path, cancellationToken: Wait.Token());
        await ReceiveAttachmentAsync(bob, id);

        var blob = Directory.EnumerateFiles(MediaStore(server), "*.blob").Single();
        await using (var stream = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 150_000;
            int b = stream.ReadByte();
            stream.Position = 150_000;
            stream.WriteByte((byte)(b ^ 0x01));
        }

        var media = Path.Combine(server.NewProfileDir(), "downloads");
        var refused = await Assert.ThrowsAsync<ParleyException>(() => bob.DownloadAttachmentAsync(id, media, Wait.Token()));
        Assert.Equal("bad_attachment", refused.ApiCode);
        Assert.Empty(Directory.EnumerateFiles(media, "*", SearchOption.AllDirectories));
        Assert.Null(bob.FindAttachment(id)!.SavedPath);
    }

    [Fact]
    public async Task A_blob_on_the_server_holds_no_plaintext_and_no_file_name()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var marker = Encoding.UTF8.GetBytes("PLAINTEXT-MARKER-only-bob-may-see-7d1e");
        var bytes = Enumerable.Repeat(marker, 2000).SelectMany(m => m).ToArray();
        var path = WriteFile(server.NewProfileDir(), "secret-plans-4c2b.txt", bytes);
        var id = await alice.SendFileAsync("bob", path, caption: "caption-9b3f", cancellationToken: Wait.Token());
        await ReceiveAttachmentAsync(bob, id);

        foreach (var file in Directory.EnumerateFiles(server.DataDir, "*", SearchOption.AllDirectories))
        {
            byte[] stored;
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy);
                stored = copy.ToArray();
            }
            foreach (var needle in new[] { marker, "secret-plans-4c2b"u8.ToArray(), "caption-9b3f"u8.ToArray() })
            {
                Assert.True(stored.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds plaintext");
            }
        }
        var saved = await bob.DownloadAttachmentAsync(id, cancellationToken: Wait.Token());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
    }
}
