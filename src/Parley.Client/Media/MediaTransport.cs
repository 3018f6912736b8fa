using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Parley.Protocol;

namespace Parley.Client.Media;

/// <summary>
/// The SDK side of the media store's HTTP API: tus 1.0 calls with this device's credentials
/// (HTTP Basic, the same secret Hello uses) and Range downloads. One call per method: retries
/// and resume decisions are the caller's. Streams in pooled buffers; never buffers a blob.
/// </summary>
internal sealed class MediaTransport : IDisposable
{
    private const int BufferBytes = 256 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly HttpClient _http;

    public MediaTransport(DeviceCredentialsProfile credentials)
    {
        // Large bodies take as long as they take; callers cancel. Answers we read whole are small JSON.
        _http = new HttpClient { BaseAddress = credentials.Server, Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = 64 * 1024 };
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}.{credentials.DeviceId}:{credentials.Password}"));
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", basic);
        _http.DefaultRequestHeaders.Add("Tus-Resumable", MediaApi.TusVersion);
    }

    /// <summary>Creates an upload of <paramref name="length"/> bytes; returns its path (/v1/media/ID).</summary>
    public async Task<string> CreateAsync(long length, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, MediaApi.Uploads);
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
        var location = response.Headers.Location?.OriginalString;
        var id = location?.Split('/')[^1];
        if (!MediaApi.IsValidId(id))
        {
            throw new ParleyException(ErrorCode.BadRequest, "The media store answered the upload creation without a valid Location.");
        }
        return MediaApi.BlobPath(id!);
    }

    /// <summary>The offset the server holds for the upload; null when it no longer knows it (expired or deleted).</summary>
    public async Task<long?> OffsetAsync(string location, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, location);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
        return ReadOffset(response) ?? throw new ParleyException(ErrorCode.BadRequest, "The media store answered HEAD without Upload-Offset.");
    }

    /// <summary>Sends <paramref name="file"/> from <paramref name="offset"/> to its end; returns the server's new offset.</summary>
    public async Task<long> PatchAsync(string location, long offset, Stream file, long length, Action<long> progress, CancellationToken cancellationToken)
    {
        file.Seek(offset, SeekOrigin.Begin);
        using var body = new StreamContent(new ProgressStream(file, offset, BufferBytes, progress), BufferBytes);
        body.Headers.ContentType = new MediaTypeHeaderValue(MediaApi.OffsetContentType);
        body.Headers.ContentLength = length - offset;
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body };
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
        return ReadOffset(response) ?? throw new ParleyException(ErrorCode.BadRequest, "The media store answered PATCH without Upload-Offset.");
    }

    /// <summary>
    /// Appends the blob's bytes from <c>output.Length</c> on (a Range request when resuming) to
    /// <paramref name="output"/>, never past <paramref name="blobLength"/> (a server sending more is refused).
    /// </summary>
    public async Task DownloadAsync(string id, FileStream output, long blobLength, Action<long> progress, CancellationToken cancellationToken)
    {
        long have = output.Length;
        using var request = new HttpRequestMessage(HttpMethod.Get, MediaApi.BlobPath(id));
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK && have > 0)
        {
            // The server ignored the range: start over.
            output.SetLength(0);
            have = 0;
        }
        else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have >= blobLength)
        {
            return;
        }
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
        output.Seek(have, SeekOrigin.Begin);
        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            long reported = have;
            while (true)
            {
                int n = await source.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                if (have + n > blobLength)
                {
                    throw new ParleyException(ErrorCode.BadRequest, "The media store sent more bytes than the attachment has.", "bad_attachment");
                }
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                have += n;
                if (have - reported >= BufferBytes)
                {
                    reported = have;
                    progress(have);
                }
            }
        }
        finally
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _http.Dispose();

    private static long? ReadOffset(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Upload-Offset", out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : null;

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<ApiError>(Json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException)
        {
        }
        var status = (int)response.StatusCode;
        var apiCode = error?.Code ?? (status >= 500 ? "internal" : "bad_request");
        var code = apiCode switch
        {
            "unauthorized" => ErrorCode.Unauthorized,
            "too_large" => ErrorCode.TooLarge,
            "too_many_uploads" or "quota_exceeded" => ErrorCode.RateLimited,
            "not_found" => ErrorCode.NotFound,
            // 408: the store cut a body that came too slowly, keeping what arrived; the upload resumes from there.
            _ when status is 408 => ErrorCode.Unavailable,
            _ when status >= 500 || status is 409 or 423 => ErrorCode.Internal,
            _ => ErrorCode.BadRequest,
        };
        throw new ParleyException(code, error?.Message ?? $"HTTP {status} {response.ReasonPhrase}", apiCode, response.Headers.RetryAfter?.Delta);
    }
}
