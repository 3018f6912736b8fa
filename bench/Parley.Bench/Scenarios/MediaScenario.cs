using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Parley.Bench.Hosting;
using Parley.Crypto.Attachments;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// Uploads then downloads N files of S MiB through the real server's media store, as the SDK does:
/// the client pads and encrypts while streaming into the tus PATCH body, and downloads into the
/// decrypting, digest-checking reader. Then eight uploads at once, sampling the server's RSS.
/// Options: --files N (4), --size-mib S (100), --concurrent K (8).
/// </summary>
internal static class MediaScenario
{
    private const double Mb = 1_000_000;

    public static async Task<ResultReport> RunAsync(BenchOptions options, ServerUnderTest server, CancellationToken ct)
    {
        int files = Math.Max(1, Option(options, "files", 4));
        long size = Math.Max(1, Option(options, "size-mib", 100)) * 1024L * 1024;
        int concurrent = Math.Max(1, Option(options, "concurrent", 8));
        var report = new ResultReport("media");

        DeviceCredentials[] users;
        using (var registrar = new Wire.Registrar(server.BaseUri))
        {
            users = await registrar.RegisterAsync(Wire.Registrar.NewRunPrefix(), 3, 3, ct);
        }
        using var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = Timeout.InfiniteTimeSpan };

        // Unmeasured: one small round trip so both sides have compiled the path.
        var warm = await UploadAsync(http, users[2], 8L * 1024 * 1024, ct);
        await DownloadAsync(http, warm, ct);

        var uploaded = new List<Uploaded>();
        var upCpu = CpuWindow.Start(server);
        for (int i = 0; i < files; i++)
        {
            uploaded.Add(await UploadAsync(http, users[0], size, ct));
        }
        upCpu.Stop();
        var downCpu = CpuWindow.Start(server);
        foreach (var file in uploaded)
        {
            await DownloadAsync(http, file, ct);
        }
        downCpu.Stop();

        double megabytes = files * size / Mb;
        double upRate = megabytes / upCpu.Seconds;
        double downRate = megabytes / downCpu.Seconds;
        report.Row("files", $"{files} × {size / 1048576.0:0} MiB, one at a time");
        report.Row("upload (encrypt + tus PATCH)", upRate, "0", "MB/s of file");
        if (upCpu.ServerCpuMicroseconds is long upServer)
        {
            report.Row("upload server CPU per MB", upServer / 1000.0 / megabytes, "0.00", "ms");
        }
        report.Row("download (GET + verify + decrypt)", downRate, "0", "MB/s of file");
        if (downCpu.ServerCpuMicroseconds is long downServer)
        {
            report.Row("download server CPU per MB", downServer / 1000.0 / megabytes, "0.00", "ms");
        }

        report.Row("machine busy (upload, download)", $"{upCpu.MachineBusy * 100:0}%, {downCpu.MachineBusy * 100:0}% of {Environment.ProcessorCount} cores");
        if (CpuWindow.BusyBeforeRun is double idle)
        {
            report.Row("machine busy before the run", idle * 100, "0", $"% of {Environment.ProcessorCount} cores" + (idle > 0.15 ? " (other work running: figures are pessimistic)" : ""));
        }

        // Memory: K uploads at once, RSS sampled while they stream.
        long? before = server.RssBytes();
        long peak = before ?? 0;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                if (server.RssBytes() is long rss && rss > peak)
                {
                    peak = rss;
                }
                try
                {
                    await Task.Delay(20, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrent).Select(_ => UploadAsync(http, users[1], size, ct)));
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        report.Row($"{concurrent} uploads at once", concurrent * size / Mb / clock.Elapsed.TotalSeconds, "0", "MB/s of file in total");
        if (before is long baseline)
        {
            report.Row("server RSS during them", $"{baseline / 1048576.0:0} → peak {peak / 1048576.0:0} MiB (+{(peak - baseline) / 1048576.0:0} MiB)");
            report.Field("rss_growth_mib", (peak - baseline) / 1048576.0, "0");
        }
        report.Field("upload_mb_per_s", upRate, "0");
        report.Field("download_mb_per_s", downRate, "0");
        if (upCpu.ServerCpuMicroseconds is long cpuUp)
        {
            report.Field("upload_server_cpu_ms_per_mb", cpuUp / 1000.0 / megabytes, "0.00");
        }
        if (downCpu.ServerCpuMicroseconds is long cpuDown)
        {
            report.Field("download_server_cpu_ms_per_mb", cpuDown / 1000.0 / megabytes, "0.00");
        }
        return report;
    }

    private static int Option(BenchOptions options, string name, int fallback) =>
        options.Extra.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private sealed record Uploaded(string Path, byte[] Key, byte[] Digest, long Size);

    private static async Task<Uploaded> UploadAsync(HttpClient http, DeviceCredentials device, long size, CancellationToken ct)
    {
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{device.User}.{device.DeviceId}:{device.Password}")));
        long blobLength = AttachmentCipher.CiphertextLength(AttachmentCipher.PaddedLength(size));
        string path;
        using (var create = new HttpRequestMessage(HttpMethod.Post, MediaApi.Uploads))
        {
            create.Headers.Authorization = basic;
            create.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
            create.Headers.Add("Upload-Length", blobLength.ToString(CultureInfo.InvariantCulture));
            using var created = await http.SendAsync(create, ct);
            created.EnsureSuccessStatusCode();
            path = created.Headers.Location!.OriginalString;
        }
        using var key = AttachmentKey.Generate();
        var body = new EncryptingContent(size, key, blobLength);
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, path) { Content = body })
        {
            patch.Headers.Authorization = basic;
            patch.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
            patch.Headers.Add("Upload-Offset", "0");
            using var answer = await http.SendAsync(patch, ct);
            answer.EnsureSuccessStatusCode();
        }
        return new Uploaded(path, key.ToArray(), body.Digest!, size);
    }

    private static async Task DownloadAsync(HttpClient http, Uploaded file, CancellationToken ct)
    {
        using var response = await http.GetAsync(file.Path, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        await using var blob = await response.Content.ReadAsStreamAsync(ct);
        using var key = AttachmentKey.FromBytes(file.Key);
        long plain = await AttachmentCipher.DecryptAsync(blob, Stream.Null, key, file.Digest, file.Size, ct);
        if (plain != file.Size)
        {
            throw new InvalidOperationException($"decrypted {plain} bytes, expected {file.Size}");
        }
    }

    /// <summary>A PATCH body that is the padded, encrypted file, made while it is sent.</summary>
    private sealed class EncryptingContent : HttpContent
    {
        private readonly long _size;
        private readonly AttachmentKey _key;

        public EncryptingContent(long size, AttachmentKey key, long blobLength)
        {
            _size = size;
            _key = key;
            Headers.ContentType = new MediaTypeHeaderValue(MediaApi.OffsetContentType);
            Headers.ContentLength = blobLength;
        }

        public byte[]? Digest { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var encrypted = await AttachmentCipher.EncryptPaddedAsync(new FileLikeStream(_size), _size, stream, _key);
            Digest = encrypted.Digest;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Headers.ContentLength ?? 0;
            return true;
        }
    }

    /// <summary>Stands in for a file on disk: a fixed pattern, read without I/O so the figures are the media path's.</summary>
    private sealed class FileLikeStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[i] = (byte)((_position + i) * 31);
            }
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
