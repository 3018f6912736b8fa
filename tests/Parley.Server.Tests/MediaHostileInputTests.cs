using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Media;

namespace Parley.Server.Tests;

/// <summary>The media store against clients that misbehave: racing their own requests, flooding, or sending what tus does not allow.</summary>
public sealed class MediaHostileInputTests
{
    private const int Half = 1024 * 1024;

    private static string MediaDir(ServerFixture fx) => Path.Combine(fx.DataDir, "media");

    /// <summary>Starts a PATCH of <paramref name="data"/> that stops halfway, once the first half is on disk, until released.</summary>
    private static async Task<(Task<HttpResponseMessage> Patch, TaskCompletionSource Release)> PatchHeldHalfwayAsync(TusClient tus, string path, byte[] data, string part)
    {
        var release = new TaskCompletionSource();
        var patch = tus.PatchAsync(path, 0, new HeldContent(data.AsMemory(0, Half), data.AsMemory(Half), () => new FileInfo(part).Length > 0, release.Task));
        await Wait.UntilAsync(() => new FileInfo(part).Exists && new FileInfo(part).Length > 0);
        return (patch, release);
    }

    private static string PartOf(ServerFixture fx, string path) => Path.Combine(MediaDir(fx), path.Split('/')[^1] + ".part");

    [Fact]
    public async Task A_DELETE_while_a_PATCH_of_the_upload_runs_is_423_and_the_PATCH_still_finishes_the_blob()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var data = RandomNumberGenerator.GetBytes(2 * Half);
        var path = await tus.CreatePathAsync(data.Length);
        var part = PartOf(fx, path);

        var (patch, release) = await PatchHeldHalfwayAsync(tus, path, data, part);
        using (var delete = await tus.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.Locked, delete.StatusCode);
            Assert.Equal("upload_busy", await TusClient.CodeAsync(delete));
        }

        release.SetResult();
        using (var done = await patch)
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        Assert.Equal(data, await tus.Http.GetByteArrayAsync(path));
        using (var delete = await tus.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        Assert.Empty(Directory.EnumerateFiles(MediaDir(fx)));
    }

    [Fact]
    public async Task An_expiry_sweep_leaves_an_upload_a_PATCH_is_writing_so_the_acknowledged_blob_is_kept()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(time: clock);
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var sweeper = fx.Server.App.Services.GetRequiredService<MediaSweeper>();
        var data = RandomNumberGenerator.GetBytes(2 * Half);
        var path = await tus.CreatePathAsync(data.Length);
        var part = PartOf(fx, path);

        // The PATCH began in time; the unfinished upload's 24 hours run out while it streams.
        var (patch, release) = await PatchHeldHalfwayAsync(tus, path, data, part);
        clock.Advance(TimeSpan.FromHours(25));
        await sweeper.SweepAsync();
        Assert.True(File.Exists(part));

        release.SetResult();
        using (var done = await patch)
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        Assert.Equal(data, await tus.Http.GetByteArrayAsync(path));
    }

    [Fact]
    public async Task Creations_at_once_from_one_account_never_pass_its_limits()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Media.MaxConcurrentUploadsPerAccount = 5;
            o.Media.BytesPerDayPerAccount = 1000;
        });
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var clients = Enumerable.Range(0, 4).Select(_ => new TusClient(fx.Server.BaseUri, alice)).ToList();
        try
        {
            // 40 creations of 100 bytes over four connections: the slots allow 5, the bytes 10.
            var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => clients[i % clients.Count].CreateAsync(100)));
            Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
            Assert.Equal(35, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
            foreach (var answer in answers)
            {
                answer.Dispose();
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        Assert.Equal(5, Directory.EnumerateFiles(MediaDir(fx), "*.meta").Count());
    }

    [Fact]
    public async Task An_expired_unfinished_upload_stops_holding_its_slot_before_the_sweep_deletes_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Media.MaxConcurrentUploadsPerAccount = 1;
            o.Media.SweepIntervalMinutes = 60 * 24 * 7; // no sweep during the test
        }, time: clock);
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var abandoned = await tus.CreatePathAsync(10);
        clock.Advance(TimeSpan.FromHours(25));

        // The expired upload can be neither finished nor deleted any more, so it must not keep the slot.
        using (var delete = await tus.DeleteAsync(abandoned))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        await tus.CreatePathAsync(10);
        using var second = await tus.CreateAsync(10);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("too_many_uploads", await TusClient.CodeAsync(second));
    }

    [Fact]
    public async Task Empty_uploads_count_against_a_daily_number_of_uploads_per_account()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Media.UploadsPerDayPerAccount = 3, time: clock);
        using var alice = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using var bob = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "bob"));

        // Empty uploads cost no bytes and finish at once, yet each leaves files on disk for 30 days.
        await alice.CreatePathAsync(0);
        await alice.CreatePathAsync(0);
        using (var delete = await alice.DeleteAsync(await alice.CreatePathAsync(0)))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode); // deleting does not give the upload back
        }
        using (var over = await alice.CreateAsync(0))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
            Assert.Equal("quota_exceeded", await TusClient.CodeAsync(over));
        }
        Assert.Equal(2, Directory.EnumerateFiles(MediaDir(fx), "*.meta").Count());
        await bob.CreatePathAsync(0);

        clock.Advance(TimeSpan.FromHours(24.5));
        await alice.CreatePathAsync(0);
    }

    [Fact]
    public async Task A_creation_the_disk_refuses_is_a_json_500_and_gives_the_account_its_slot_and_bytes_back()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Media.MaxConcurrentUploadsPerAccount = 1;
            o.Media.BytesPerDayPerAccount = 10;
        });
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));

        // The media folder is gone and a file has its name: no upload can be created in it.
        Directory.Delete(MediaDir(fx));
        await File.WriteAllBytesAsync(MediaDir(fx), []);
        using (var failed = await tus.CreateAsync(10))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("storage_failed", await TusClient.CodeAsync(failed));
        }

        File.Delete(MediaDir(fx));
        Directory.CreateDirectory(MediaDir(fx));
        var path = await tus.CreatePathAsync(10);
        using (var patch = await tus.PatchAsync(path, 0, new byte[10]))
        {
            Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        }
    }

    [Fact]
    public async Task A_PATCH_the_disk_refuses_is_a_json_500_not_a_success()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var path = await tus.CreatePathAsync(100);

        // A full disk: every write to the upload's file fails with ENOSPC. (The offset is the link's
        // own length, so the PATCH starts where HEAD says.)
        var part = PartOf(fx, path);
        File.Delete(part);
        File.CreateSymbolicLink(part, "/dev/full");
        long offset = await tus.OffsetAsync(path);
        using (var patch = await tus.PatchAsync(path, offset, new byte[100 - offset]))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, patch.StatusCode);
            Assert.Equal("storage_failed", await TusClient.CodeAsync(patch));
        }
    }

    [Fact]
    public async Task A_POST_with_a_chunked_body_is_refused_as_any_body_on_POST_is()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using (var request = new HttpRequestMessage(HttpMethod.Post, MediaApi.Uploads))
        {
            request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
            request.Headers.Add("Upload-Length", "5");
            request.Content = new HeldContent(new byte[5], ReadOnlyMemory<byte>.Empty, () => true, Task.CompletedTask);
            using var refused = await tus.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("bad_request", await TusClient.CodeAsync(refused));
        }
        Assert.Empty(Directory.EnumerateFiles(MediaDir(fx)));

        // An empty body is no body.
        using var empty = new HttpRequestMessage(HttpMethod.Post, MediaApi.Uploads) { Content = new ByteArrayContent([]) };
        empty.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        empty.Headers.Add("Upload-Length", "5");
        using var created = await tus.Http.SendAsync(empty);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task A_PATCH_that_goes_quiet_is_answered_408_and_keeps_the_bytes_that_arrived_even_short_of_a_buffer()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        using var tus = new TusClient(fx.Server.BaseUri, alice);
        var path = await tus.CreatePathAsync(100_000);

        // The body announces 100,000 bytes, 100 arrive (far less than the server's buffer), then nothing, as from a
        // phone that lost its network: the server's minimum body data rate ends the PATCH.
        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(fx.Server.BaseUri.Host, fx.Server.BaseUri.Port);
            var head = $"PATCH {path} HTTP/1.1\r\nHost: {fx.Server.BaseUri.Authority}\r\nAuthorization: {RawClient.Basic(alice)}\r\n" +
                $"Tus-Resumable: {MediaApi.TusVersion}\r\nUpload-Offset: 0\r\nContent-Type: {MediaApi.OffsetContentType}\r\nContent-Length: 100000\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(head));
            await socket.SendAsync(new byte[100]);
            var answer = new MemoryStream();
            var sink = new byte[4096];
            for (int n; (n = await socket.ReceiveAsync(sink)) > 0;)
            {
                answer.Write(sink, 0, n);
            }
            // Told that its body came too slowly, not a success.
            var text = Encoding.ASCII.GetString(answer.ToArray());
            Assert.StartsWith("HTTP/1.1 408 ", text, StringComparison.Ordinal);
            Assert.Contains("\"too_slow\"", text, StringComparison.Ordinal);
        }

        long offset = -1;
        await UntilAsync(async () =>
        {
            using var answer = await tus.HeadAsync(path);
            if (answer.StatusCode == HttpStatusCode.Locked)
            {
                return false; // the broken-off PATCH is still finishing
            }
            offset = long.Parse(answer.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
            return true;
        });
        Assert.Equal(100, offset);
    }

    [Fact]
    public async Task Files_a_crash_left_without_metadata_are_swept_once_they_would_have_expired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(time: clock);
        var sweeper = fx.Server.App.Services.GetRequiredService<MediaSweeper>();

        // What a crash between writing an upload's files can leave: data, or a half-written metadata file.
        var part = Path.Combine(MediaDir(fx), new string('a', 32) + ".part");
        var temp = Path.Combine(MediaDir(fx), new string('b', 32) + ".meta.tmp");
        await File.WriteAllBytesAsync(part, new byte[1000]);
        await File.WriteAllBytesAsync(temp, [(byte)'{']);
        clock.Advance(TimeSpan.FromHours(25));

        // One written just now may be an upload being created: it stays.
        var fresh = Path.Combine(MediaDir(fx), new string('c', 32) + ".part");
        await File.WriteAllBytesAsync(fresh, []);
        File.SetLastWriteTimeUtc(fresh, clock.GetUtcNow().UtcDateTime);

        await sweeper.SweepAsync();
        Assert.Equal([fresh], Directory.EnumerateFiles(MediaDir(fx)));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!await condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }

    /// <summary>A chunked body: <paramref name="first"/>, then, once <paramref name="stored"/> holds and <paramref name="release"/> completes, <paramref name="rest"/>.</summary>
    private sealed class HeldContent(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> rest, Func<bool> stored, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            await Wait.UntilAsync(stored);
            await release;
            await stream.WriteAsync(rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
