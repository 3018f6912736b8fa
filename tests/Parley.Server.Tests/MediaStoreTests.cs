using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Media;

namespace Parley.Server.Tests;

public sealed class MediaStoreTests
{
    private static string MediaDir(ServerFixture fx) => Path.Combine(fx.DataDir, "media");

    private static long StoredBytes(ServerFixture fx) =>
        Directory.EnumerateFiles(MediaDir(fx)).Where(f => !f.EndsWith(".meta", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task Options_advertise_tus_1_0_with_creation_expiration_and_termination()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, null);
        using var request = new HttpRequestMessage(HttpMethod.Options, MediaApi.Uploads);
        using var response = await tus.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("1.0.0", response.Headers.GetValues("Tus-Version").Single());
        Assert.Equal("creation,expiration,termination", response.Headers.GetValues("Tus-Extension").Single());
        Assert.Equal(WireLimits.MaxAttachmentBlobBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("Tus-Max-Size").Single());
    }

    [Fact]
    public async Task Upload_without_valid_device_credentials_is_refused_with_a_json_401()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        using var anonymous = new TusClient(fx.Server.BaseUri, null);
        using var refused = await anonymous.CreateAsync(10);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("unauthorized", await TusClient.CodeAsync(refused));

        using var wrong = new TusClient(fx.Server.BaseUri, alice with { Password = alice.Password[..^2] + "xx" });
        using var wrongAnswer = await wrong.CreateAsync(10);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);

        using var owner = new TusClient(fx.Server.BaseUri, alice);
        var path = await owner.CreatePathAsync(10);
        using var patch = await anonymous.PatchAsync(path, 0, new byte[10]);
        Assert.Equal(HttpStatusCode.Unauthorized, patch.StatusCode);
        Assert.Equal(0, await owner.OffsetAsync(path));
    }

    [Fact]
    public async Task A_request_without_Tus_Resumable_is_refused_with_412()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using var response = await tus.CreateAsync(10, tus: false);
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("1.0.0", response.Headers.GetValues("Tus-Version").Single());
        Assert.Equal("unsupported_version", await TusClient.CodeAsync(response));
    }

    [Fact]
    public async Task Oversized_upload_is_refused_before_any_byte_is_stored()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Media.MaxUploadBytes = 1000);
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using var tooLong = await tus.CreateAsync(1001);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLong.StatusCode);
        Assert.Equal("too_large", await TusClient.CodeAsync(tooLong));
        Assert.Empty(Directory.EnumerateFiles(MediaDir(fx)));

        // A body longer than what is left of Upload-Length is refused on its Content-Length, unread.
        var path = await tus.CreatePathAsync(100);
        using var overlong = await tus.PatchAsync(path, 0, new byte[101]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, overlong.StatusCode);
        Assert.Equal("too_large", await TusClient.CodeAsync(overlong));
        Assert.Equal(0, await tus.OffsetAsync(path));
        Assert.Equal(0, StoredBytes(fx));
    }

    [Fact]
    public async Task Interrupted_upload_resumes_from_the_server_offset_and_the_blob_has_the_sent_digest()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var path = await tus.CreatePathAsync(data.Length);

        // The body fails halfway, once the server has stored some of it: the connection drops mid-PATCH.
        var part = Path.Combine(MediaDir(fx), path.Split('/')[^1] + ".part");
        var failing = new FailingContent(data.AsMemory(0, data.Length / 2), () => new FileInfo(part).Length > 0);
        await Assert.ThrowsAnyAsync<Exception>(() => tus.PatchAsync(path, 0, failing));

        long offset = 0;
        HttpResponseMessage? done = null;
        await UntilAsync(async () =>
        {
            using (var head = await tus.HeadAsync(path))
            {
                if (head.StatusCode == HttpStatusCode.Locked)
                {
                    return false; // the dropped PATCH is still finishing: its offset is not settled
                }
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                offset = long.Parse(head.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
            }
            done?.Dispose();
            done = await tus.PatchAsync(path, offset, new ByteArrayContent(data, (int)offset, data.Length - (int)offset));
            // 423 while the server still finishes the dropped PATCH, 409 if it stored more since HEAD: ask again.
            return done.StatusCode == HttpStatusCode.NoContent;
        });
        Assert.True(offset > 0 && offset <= data.Length / 2, $"resumed from {offset}, not from the start");
        Assert.Equal(data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), done!.Headers.GetValues("Upload-Offset").Single());
        done.Dispose();

        var blob = await tus.Http.GetByteArrayAsync(path);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(blob));
    }

    [Fact]
    public async Task A_HEAD_while_a_PATCH_of_the_upload_runs_is_423_and_after_it_gives_the_settled_offset()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var path = await tus.CreatePathAsync(data.Length);
        var part = Path.Combine(MediaDir(fx), path.Split('/')[^1] + ".part");

        // A PATCH whose body stops after 1 MiB (more than the server buffers), once some is on disk, until released.
        var release = new TaskCompletionSource();
        var patch = tus.PatchAsync(path, 0, new StallingContent(data.AsMemory(0, 1024 * 1024), () => new FileInfo(part).Length > 0, release.Task));
        await Wait.UntilAsync(() => new FileInfo(part).Exists && new FileInfo(part).Length > 0);
        using (var busy = await tus.HeadAsync(path))
        {
            Assert.Equal(HttpStatusCode.Locked, busy.StatusCode);
            Assert.False(busy.Headers.Contains("Upload-Offset"));
        }

        release.SetResult();
        using (var done = await patch)
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        Assert.Equal(1024 * 1024, await tus.OffsetAsync(path));
    }

    [Fact]
    public async Task Range_download_returns_the_requested_bytes_and_unfinished_uploads_are_not_served()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var data = RandomNumberGenerator.GetBytes(100_000);
        var path = await tus.CreatePathAsync(data.Length);
        using (var first = await tus.PatchAsync(path, 0, data[..40_000]))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
            Assert.Equal("40000", first.Headers.GetValues("Upload-Offset").Single());
            Assert.True(first.Headers.Contains("Upload-Expires"));
        }
        using var anonymous = new TusClient(fx.Server.BaseUri, null);
        using (var unfinished = await anonymous.Http.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.NotFound, unfinished.StatusCode);
        }
        using (var rest = await tus.PatchAsync(path, 40_000, data[40_000..]))
        {
            Assert.Equal(HttpStatusCode.NoContent, rest.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Range = new RangeHeaderValue(60_000, null);
        using var partial = await anonymous.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(60_000, partial.Content.Headers.ContentRange!.From);
        Assert.Equal(data[60_000..], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(data, await anonymous.Http.GetByteArrayAsync(path));

        using var unknown = await anonymous.Http.GetAsync(MediaApi.BlobPath(new string('a', 32)));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", await TusClient.CodeAsync(unknown));
    }

    [Fact]
    public async Task Unfinished_uploads_expire_after_24_hours_and_finished_blobs_after_30_days()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(time: clock);
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var sweeper = fx.Server.App.Services.GetRequiredService<MediaSweeper>();
        var unfinished = await tus.CreatePathAsync(10);
        var finished = await tus.CreatePathAsync(4);
        using (var patch = await tus.PatchAsync(finished, 0, [1, 2, 3, 4]))
        {
            Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        }

        // The background sweeper also runs as the clock moves: count what is stored, not what one sweep did.
        int Stored() => Directory.EnumerateFiles(MediaDir(fx), "*.meta").Count();
        clock.Advance(TimeSpan.FromHours(23));
        await sweeper.SweepAsync();
        Assert.Equal(2, Stored());
        Assert.Equal(0, await tus.OffsetAsync(unfinished));

        clock.Advance(TimeSpan.FromHours(2));
        using (var expired = await tus.HeadAsync(unfinished))
        {
            Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        }
        await sweeper.SweepAsync();
        Assert.Equal(1, Stored());
        Assert.Equal([1, 2, 3, 4], await tus.Http.GetByteArrayAsync(finished));

        // The blob finished at the start: 29 days and 1 hour on it is still served, at 30 days it is gone.
        clock.Advance(TimeSpan.FromDays(28));
        await sweeper.SweepAsync();
        Assert.Equal(1, Stored());
        clock.Advance(TimeSpan.FromHours(23));
        using (var gone = await tus.Http.GetAsync(finished))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        await sweeper.SweepAsync();
        Assert.Empty(Directory.EnumerateFiles(MediaDir(fx)));
    }

    [Fact]
    public async Task A_wrong_offset_is_a_conflict_and_another_account_cannot_see_or_touch_an_upload()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var alice = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using var mallory = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "mallory"));
        var path = await alice.CreatePathAsync(10);
        using (var conflict = await alice.PatchAsync(path, 5, new byte[5]))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal("offset_mismatch", await TusClient.CodeAsync(conflict));
        }
        using (var head = await mallory.HeadAsync(path))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
        using (var patch = await mallory.PatchAsync(path, 0, new byte[10]))
        {
            Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        }
        using (var delete = await mallory.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new ByteArrayContent(new byte[2]) })
        {
            request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
            request.Headers.Add("Upload-Offset", "0");
            using var badType = await alice.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, badType.StatusCode);
        }
        using (var good = await alice.PatchAsync(path, 0, new byte[2]))
        {
            Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        }
        Assert.Equal(2, await alice.OffsetAsync(path));
    }

    [Fact]
    public async Task Termination_deletes_the_upload_and_frees_its_slot()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Media.MaxConcurrentUploadsPerAccount = 1);
        using var tus = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        var path = await tus.CreatePathAsync(10);
        using (var second = await tus.CreateAsync(10))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.Equal("too_many_uploads", await TusClient.CodeAsync(second));
        }
        using (var delete = await tus.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using (var head = await tus.HeadAsync(path))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
        Assert.Empty(Directory.EnumerateFiles(MediaDir(fx)));
        await tus.CreatePathAsync(10);
    }

    [Fact]
    public async Task Bytes_announced_in_a_day_are_bounded_per_account()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Media.BytesPerDayPerAccount = 1000, time: clock);
        using var alice = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "alice"));
        using var bob = new TusClient(fx.Server.BaseUri, await RawClient.RegisterAsync(fx.Server, "bob"));
        await alice.CreatePathAsync(600);
        using (var over = await alice.CreateAsync(500))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
            Assert.Equal("quota_exceeded", await TusClient.CodeAsync(over));
        }
        await bob.CreatePathAsync(500);
        clock.Advance(TimeSpan.FromHours(24.5));
        await alice.CreatePathAsync(500);
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

    /// <summary>A body that sends its bytes, waits until <c>stored</c> holds, then fails as a dropped connection does.</summary>
    /// <summary>A chunked body that writes <paramref name="bytes"/>, waits until <paramref name="stored"/> and <paramref name="release"/>, then ends.</summary>
    private sealed class StallingContent(ReadOnlyMemory<byte> bytes, Func<bool> stored, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            await Wait.UntilAsync(stored);
            await release;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private sealed class FailingContent(ReadOnlyMemory<byte> bytes, Func<bool> stored) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            await Wait.UntilAsync(stored);
            throw new IOException("network gone");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
