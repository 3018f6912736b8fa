using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Stands in front of the real server's media downloads, as a proxy on the way would: it lets them
/// through, refuses them (429), or stalls them (the request starts and never answers, as over a
/// network path gone dead, until the client gives it up), at once or after the first bytes of
/// the answer. Records each download's Range header. Install it with
/// <c>TestServer.StartAsync(services: gate.Install)</c>.
/// </summary>
public sealed class MediaGate : IStartupFilter
{
    public enum Mode
    {
        Pass,
        Refuse,
        Stall,

        /// <summary>Sends the first <see cref="StallAfterBytes"/> bytes of the answer, then stalls.</summary>
        StallPartway,
    }

    private volatile Mode _downloads;
    private int _stalled;
    private int _givenUp;

    /// <summary>What becomes of downloads that start from now on (one already stalled stays so until given up).</summary>
    public Mode Downloads
    {
        get => _downloads;
        set => _downloads = value;
    }

    /// <summary>How much of the answer <see cref="Mode.StallPartway"/> sends before it stalls.</summary>
    public int StallAfterBytes { get; set; } = 64;

    /// <summary>The Range header of every download that came, in order ("" for none).</summary>
    public ConcurrentQueue<string> Ranges { get; } = new();

    /// <summary>How many stalled downloads their client has given up.</summary>
    public int GivenUp => Volatile.Read(ref _givenUp);

    public void Install(IServiceCollection services) => services.AddSingleton<IStartupFilter>(this);

    /// <summary>Waits until <paramref name="count"/> downloads in all have stalled.</summary>
    public Task StalledAsync(int count) => Wait.UntilAsync(() => Volatile.Read(ref _stalled) >= count, $"{count} stalled downloads");

    private async Task StallAsync(CancellationToken aborted)
    {
        Interlocked.Increment(ref _stalled);
        await Task.Delay(Timeout.Infinite, aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Interlocked.Increment(ref _givenUp);
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (http, inner) =>
        {
            var mode = Downloads;
            if (!HttpMethods.IsGet(http.Request.Method) || !http.Request.Path.StartsWithSegments(MediaApi.Uploads))
            {
                await inner(http);
                return;
            }
            Ranges.Enqueue(http.Request.Headers.Range.ToString());
            if (mode == Mode.Pass)
            {
                await inner(http);
            }
            else if (mode == Mode.Refuse)
            {
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            }
            else if (mode == Mode.StallPartway)
            {
                http.Response.Body = new StallingStream(http.Response.Body, StallAfterBytes, this, http.RequestAborted);
                try
                {
                    await inner(http);
                }
                catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
                {
                    // The client gave the stalled answer up.
                }
            }
            else
            {
                await StallAsync(http.RequestAborted);
            }
        });
        next(app);
    };

    /// <summary>A response body that lets the first bytes through, flushed, then never completes a write.</summary>
    private sealed class StallingStream(Stream inner, int allowed, MediaGate gate, CancellationToken aborted) : Stream
    {
        private int _left = allowed;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int now = Math.Min(_left, buffer.Length);
            if (now > 0)
            {
                await inner.WriteAsync(buffer[..now], cancellationToken);
                await inner.FlushAsync(cancellationToken);
                _left -= now;
            }
            if (now < buffer.Length)
            {
                await gate.StallAsync(aborted);
                throw new OperationCanceledException(aborted); // the rest is never sent
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => throw new NotSupportedException("synchronous writes");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("synchronous writes");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
