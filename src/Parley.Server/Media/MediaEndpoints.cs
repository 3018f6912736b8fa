using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;

namespace Parley.Server.Media;

/// <summary>
/// The media store's HTTP API (docs/protocol.md, "Media"): tus 1.0 core with the creation,
/// expiration and termination extensions at <c>/v1/media</c>, written on ASP.NET Core (no tus
/// library is available to this build), and <c>GET /v1/media/{id}</c> with Range. Uploads need
/// HTTP Basic with the device credentials; a download needs only the id. Every refusal is a 4xx
/// with a JSON <c>{code, message}</c>; bodies are streamed to the store, never buffered whole.
/// </summary>
public static partial class MediaEndpoints
{
    private const string TusResumable = "Tus-Resumable";
    private const string UploadOffset = "Upload-Offset";
    private const string UploadLength = "Upload-Length";
    private const string UploadExpires = "Upload-Expires";
    private const string Extensions = "creation,expiration,termination";

    /// <summary>Maps the media endpoints.</summary>
    public static void MapMedia(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        const string one = MediaApi.Uploads + "/{id}";
        app.MapMethods(MediaApi.Uploads, [HttpMethods.Options], Options);
        app.MapPost(MediaApi.Uploads, CreateAsync);
        app.MapMethods(one, [HttpMethods.Head], HeadAsync);
        app.MapPatch(one, PatchAsync);
        app.MapDelete(one, DeleteAsync);
        app.MapGet(one, GetAsync);
    }

    private static IResult Options(HttpContext http, IOptions<ParleyOptions> options)
    {
        var headers = http.Response.Headers;
        headers[TusResumable] = MediaApi.TusVersion;
        headers["Tus-Version"] = MediaApi.TusVersion;
        headers["Tus-Extension"] = Extensions;
        headers["Tus-Max-Size"] = options.Value.Media.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        return Results.NoContent();
    }

    private static async Task<IResult> CreateAsync(HttpContext http, AccountDirectory directory, IBlobStore store, MediaQuota quota,
        IOptions<ParleyOptions> options, TimeProvider time, ILoggerFactory logs)
    {
        if (Refuse(http, directory, out var device) is { } refused)
        {
            return refused;
        }
        var media = options.Value.Media;
        if (http.Request.Headers.ContainsKey("Upload-Defer-Length"))
        {
            return ParleyJson.Error(400, "bad_request", "Upload-Defer-Length is not supported: announce Upload-Length");
        }
        if (ParseLength(http.Request.Headers[UploadLength]) is not { } length)
        {
            return ParleyJson.Error(400, "bad_request", "Upload-Length must be a non-negative integer");
        }
        if (length > media.MaxUploadBytes)
        {
            return ParleyJson.Error(413, "too_large", $"an upload is at most {media.MaxUploadBytes} bytes");
        }
        // A chunked body counts as well: ignored, its bytes would look stored to the client.
        if (http.Request.ContentLength is > 0 || http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
        {
            // creation-with-upload is not offered: the body would be read before the upload exists.
            return ParleyJson.Error(400, "bad_request", "send the bytes with PATCH after creating the upload");
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var account = device.Account.Id;
        var refusal = quota.TryReserve(account, id, length);
        if (refusal == MediaQuota.Refusal.ConcurrentUploads && await ReleaseExpiredAsync(store, quota, account, media, time) > 0)
        {
            refusal = quota.TryReserve(account, id, length);
        }
        switch (refusal)
        {
            case MediaQuota.Refusal.ConcurrentUploads:
                return ParleyJson.Error(429, "too_many_uploads", $"an account has at most {media.MaxConcurrentUploadsPerAccount} unfinished uploads; finish or delete one");
            case MediaQuota.Refusal.BytesPerDay:
                return ParleyJson.Error(429, "quota_exceeded", $"an account may upload at most {media.BytesPerDayPerAccount} bytes in 24 hours");
            case MediaQuota.Refusal.UploadsPerDay:
                return ParleyJson.Error(429, "quota_exceeded", $"an account may create at most {media.UploadsPerDayPerAccount} uploads in 24 hours");
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var record = new BlobRecord(id, account, length, 0, now, null);
        var logger = logs.CreateLogger(typeof(MediaEndpoints));
        // Held while the files are made, so a sweep does not take them for ones a crash left behind.
        UploadLocks.TryTake(store, id);
        try
        {
            // Not cancelled when the client goes away: half made, the upload would be a .part
            // without its .meta, which nothing lists, sweeps or counts.
            await store.CreateAsync(record, CancellationToken.None);
            if (length == 0)
            {
                // An empty file is finished at creation.
                record = await store.AppendAsync(record, Stream.Null, 0, CancellationToken.None);
                quota.Release(account, id);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing was stored: the account gets its slot and its bytes back, and no half-made files stay.
            quota.Refund(account, id);
            await TryDeleteAsync(store, id);
            LogStorageFailed(logger, id, e);
            return ParleyJson.Error(500, "storage_failed", "the server could not store the upload; try again later");
        }
        finally
        {
            UploadLocks.Release(store, id);
        }
        LogCreated(logger, account, length);
        http.Response.Headers[TusResumable] = MediaApi.TusVersion;
        SetExpires(http, record, media);
        return Results.Created(MediaApi.BlobPath(id), null);
    }

    private static async Task<IResult> HeadAsync(string id, HttpContext http, AccountDirectory directory, IBlobStore store,
        IOptions<ParleyOptions> options, TimeProvider time)
    {
        if (Refuse(http, directory, out var device) is { } refused)
        {
            return refused;
        }
        if (await FindOwnAsync(http, store, id, device.Account.Id, options.Value.Media, time) is not { } record)
        {
            return ParleyJson.Error(404, "not_found", "no such upload (or it expired)");
        }
        if (UploadLocks.IsHeld(store, id))
        {
            // A PATCH of it is still running (often one whose client went away and that the server
            // has not seen end yet): its offset is not settled, and the one stored now would send
            // the client back to bytes that PATCH is still writing.
            return ParleyJson.Error(423, "upload_busy", "a PATCH of this upload is still running; retry shortly");
        }
        var headers = http.Response.Headers;
        headers[UploadOffset] = record.Offset.ToString(CultureInfo.InvariantCulture);
        headers[UploadLength] = record.Length.ToString(CultureInfo.InvariantCulture);
        headers.CacheControl = "no-store";
        SetExpires(http, record, options.Value.Media);
        return Results.Ok();
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext http, AccountDirectory directory, IBlobStore store, MediaQuota quota,
        IOptions<ParleyOptions> options, TimeProvider time, ILoggerFactory logs)
    {
        if (Refuse(http, directory, out var device) is { } refused)
        {
            return refused;
        }
        if (!string.Equals(http.Request.ContentType, MediaApi.OffsetContentType, StringComparison.OrdinalIgnoreCase))
        {
            return ParleyJson.Error(415, "bad_content_type", $"PATCH bodies are {MediaApi.OffsetContentType}");
        }
        if (ParseLength(http.Request.Headers[UploadOffset]) is not { } offset)
        {
            return ParleyJson.Error(400, "bad_request", "Upload-Offset must be a non-negative integer");
        }
        var media = options.Value.Media;
        // A second PATCH of the same upload waits its turn (423), typically the resume of a client
        // whose old connection the server has not yet seen die.
        if (!UploadLocks.TryTake(store, id))
        {
            return ParleyJson.Error(423, "upload_busy", "another PATCH of this upload is still running; retry shortly");
        }
        try
        {
            if (await FindOwnAsync(http, store, id, device.Account.Id, media, time) is not { } record)
            {
                return ParleyJson.Error(404, "not_found", "no such upload (or it expired)");
            }
            if (record.IsComplete)
            {
                return ParleyJson.Error(409, "upload_complete", "the upload is already complete");
            }
            if (offset != record.Offset)
            {
                http.Response.Headers[UploadOffset] = record.Offset.ToString(CultureInfo.InvariantCulture);
                return ParleyJson.Error(409, "offset_mismatch", $"the upload is at offset {record.Offset}; resume from there");
            }
            long left = record.Length - record.Offset;
            if (http.Request.ContentLength is { } declared && declared > left)
            {
                return ParleyJson.Error(413, "too_large", $"the body would pass Upload-Length; {left} bytes are left");
            }
            // The body is bounded by Upload-Length, not by Kestrel's default for small requests.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }
            BlobRecord after;
            var body = new ClientBody(http.Request.Body);
            try
            {
                after = await store.AppendAsync(record, body, left, http.RequestAborted);
            }
            catch (Exception e) when (body.Failed || http.RequestAborted.IsCancellationRequested)
            {
                // The body broke off: what arrived is stored, and HEAD tells where to resume. A client that
                // went away hears nothing; one that sent too slowly or ended early is told so, never a success.
                return e is BadHttpRequestException { StatusCode: 408 }
                    ? ParleyJson.Error(408, "too_slow", "the body came too slowly; what arrived is stored, and HEAD tells where to resume")
                    : ParleyJson.Error(400, "bad_request", "the body broke off; what arrived is stored, and HEAD tells where to resume");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The store failed (a full disk): the client must not take it for success; it resumes from HEAD later.
                LogStorageFailed(logs.CreateLogger(typeof(MediaEndpoints)), id, e);
                return ParleyJson.Error(500, "storage_failed", "the server could not store the bytes; retry later from the offset HEAD gives");
            }
            bool extra = after.IsComplete && http.Request.ContentLength is null && await HasMoreAsync(http.Request.Body, http.RequestAborted);
            if (after.IsComplete)
            {
                quota.Release(record.AccountId, id);
            }
            http.Response.Headers[UploadOffset] = after.Offset.ToString(CultureInfo.InvariantCulture);
            if (extra)
            {
                return ParleyJson.Error(413, "too_large", "the body went past Upload-Length; the bytes up to it are stored");
            }
            SetExpires(http, after, media);
            return Results.NoContent();
        }
        finally
        {
            UploadLocks.Release(store, id);
        }
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, AccountDirectory directory, IBlobStore store, MediaQuota quota,
        IOptions<ParleyOptions> options, TimeProvider time)
    {
        if (Refuse(http, directory, out var device) is { } refused)
        {
            return refused;
        }
        // Not under a running PATCH: it would go on writing into the deleted file, and answer the
        // client that its bytes are stored, or finish the blob after the DELETE was answered.
        if (!UploadLocks.TryTake(store, id))
        {
            return ParleyJson.Error(423, "upload_busy", "a PATCH of this upload is still running; retry shortly");
        }
        try
        {
            if (await FindOwnAsync(http, store, id, device.Account.Id, options.Value.Media, time) is not { } record)
            {
                return ParleyJson.Error(404, "not_found", "no such upload (or it expired)");
            }
            await store.DeleteAsync(id, CancellationToken.None);
            quota.Release(record.AccountId, id);
            return Results.NoContent();
        }
        finally
        {
            UploadLocks.Release(store, id);
        }
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, IBlobStore store, IOptions<ParleyOptions> options, TimeProvider time)
    {
        var record = await store.FindAsync(id, http.RequestAborted);
        if (record is null || !record.IsComplete || Expired(record, options.Value.Media, time))
        {
            return ParleyJson.Error(404, "not_found", "no such blob (or it expired)");
        }
        var stream = await store.OpenReadAsync(id, http.RequestAborted);
        if (stream is null)
        {
            return ParleyJson.Error(404, "not_found", "no such blob (or it expired)");
        }
        http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
        return Results.Stream(stream, "application/octet-stream", enableRangeProcessing: true);
    }

    // Authentication and the tus version check every tus request (except OPTIONS) needs.
    private static IResult? Refuse(HttpContext http, AccountDirectory directory, out (Account Account, DeviceRecord Device) device)
    {
        device = default;
        http.Response.Headers[TusResumable] = MediaApi.TusVersion;
        if (RegistrationEndpoints.BasicAuth(http, directory) is not { } found)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"parley\"";
            return ParleyJson.Error(401, "unauthorized", "uploads need HTTP Basic with a device's credentials (user.device:password)");
        }
        if (http.Request.Headers[TusResumable] != MediaApi.TusVersion)
        {
            http.Response.Headers["Tus-Version"] = MediaApi.TusVersion;
            return ParleyJson.Error(412, "unsupported_version", $"send Tus-Resumable: {MediaApi.TusVersion}");
        }
        device = found;
        return null;
    }

    // The caller's own live upload; another account's is reported as unknown, so ids cannot be probed.
    private static async Task<BlobRecord?> FindOwnAsync(HttpContext http, IBlobStore store, string id, long accountId, MediaOptions media, TimeProvider time)
    {
        var record = await store.FindAsync(id, http.RequestAborted);
        return record is null || record.AccountId != accountId || Expired(record, media, time) ? null : record;
    }

    /// <summary>When <paramref name="record"/> stops being served: unfinished uploads and finished blobs have their own lifetimes.</summary>
    internal static DateTimeOffset ExpiresAt(BlobRecord record, MediaOptions media) => record.CompletedAt is { } done
        ? DateTimeOffset.FromUnixTimeMilliseconds(done) + TimeSpan.FromDays(media.BlobTtlDays)
        : DateTimeOffset.FromUnixTimeMilliseconds(record.CreatedAt) + TimeSpan.FromHours(media.UnfinishedExpiryHours);

    private static bool Expired(BlobRecord record, MediaOptions media, TimeProvider time) => ExpiresAt(record, media) <= time.GetUtcNow();

    private static void SetExpires(HttpContext http, BlobRecord record, MediaOptions media)
    {
        if (!record.IsComplete)
        {
            http.Response.Headers[UploadExpires] = ExpiresAt(record, media).ToString("r", CultureInfo.InvariantCulture);
        }
    }

    private static long? ParseLength(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static async Task<bool> HasMoreAsync(Stream body, CancellationToken cancellationToken)
    {
        var probe = new byte[1];
        try
        {
            return await body.ReadAsync(probe, cancellationToken) > 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Unfinished uploads that expired count as open until the sweeper deletes them, yet HEAD, PATCH
    // and DELETE already answer 404 for them: the client could neither finish nor delete one to get
    // its slot back. They stop counting here, at the first refusal; the sweeper deletes the files.
    private static async Task<int> ReleaseExpiredAsync(IBlobStore store, MediaQuota quota, long account, MediaOptions media, TimeProvider time)
    {
        int released = 0;
        foreach (var open in quota.OpenUploads(account))
        {
            // One not found may be a creation under way (reserved, files not yet written): it keeps its slot.
            if (await store.FindAsync(open, CancellationToken.None) is { IsComplete: false } record && Expired(record, media, time))
            {
                quota.Release(account, open);
                released++;
            }
        }
        return released;
    }

    private static async Task TryDeleteAsync(IBlobStore store, string id)
    {
        try
        {
            await store.DeleteAsync(id, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The sweeper removes what is left once it expires.
        }
    }



    [LoggerMessage(LogLevel.Debug, "Media upload created for account {AccountId}: {Length} bytes")]
    private static partial void LogCreated(ILogger logger, long accountId, long length);

    [LoggerMessage(LogLevel.Error, "Media store failed for upload {Id}")]
    private static partial void LogStorageFailed(ILogger logger, string id, Exception exception);
}
