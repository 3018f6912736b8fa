using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>A minimal tus 1.0 client over HttpClient, speaking to the real server as a device would.</summary>
public sealed class TusClient : IDisposable
{
    private readonly HttpClient _http;

    public TusClient(Uri server, DeviceCredentials? device)
    {
        _http = new HttpClient { BaseAddress = server };
        if (device is not null)
        {
            _http.DefaultRequestHeaders.Authorization = RawClient.Basic(device);
        }
    }

    public HttpClient Http => _http;

    /// <summary>POST; returns the answer (Location holds the upload path on 201).</summary>
    public async Task<HttpResponseMessage> CreateAsync(long length, bool tus = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, MediaApi.Uploads);
        if (tus)
        {
            request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        }
        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await _http.SendAsync(request);
    }

    /// <summary>Creates an upload and returns its path; fails the test otherwise.</summary>
    public async Task<string> CreatePathAsync(long length)
    {
        using var response = await CreateAsync(length);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    public async Task<HttpResponseMessage> HeadAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        return await _http.SendAsync(request);
    }

    public async Task<long> OffsetAsync(string path)
    {
        using var response = await HeadAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<HttpResponseMessage> PatchAsync(string path, long offset, HttpContent body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = body };
        request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        body.Headers.ContentType = new MediaTypeHeaderValue(MediaApi.OffsetContentType);
        return await _http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PatchAsync(string path, long offset, byte[] bytes) => PatchAsync(path, offset, new ByteArrayContent(bytes));

    public async Task<HttpResponseMessage> DeleteAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        return await _http.SendAsync(request);
    }

    /// <summary>The JSON error code of a refusal.</summary>
    public static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ApiError>(ParleyJson.Options))?.Code;

    public void Dispose() => _http.Dispose();
}
