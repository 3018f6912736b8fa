using System.Net;
using System.Text;
using System.Text.Json;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Accounts;

namespace Parley.Fuzz.Targets;

/// <summary>
/// The media store's tus and download endpoints of a real server over loopback. An input is an
/// operation byte (POST, PATCH, HEAD, DELETE, GET, OPTIONS), a flags byte (credentials: the
/// owner, another account, a wrong password, garbage; which id: a fresh upload made for this
/// input, a finished blob, an unknown id, an odd path; body with or without a length), header
/// lines as text, a NUL and the body. Headers are mutated as lines (boundary values, dropped,
/// repeated, renamed), the rest byte-wise. Property: every answer is below 500 and the server
/// logs no error; afterwards a good client uploads and downloads a file, and messages still flow.
/// </summary>
public sealed class TusTarget : IFuzzTarget
{
    private const int WorkerCount = 4;
    private const int FreshLength = 16;

    private static readonly HttpMethod[] Methods =
        [HttpMethod.Post, HttpMethod.Patch, HttpMethod.Head, HttpMethod.Delete, HttpMethod.Get, HttpMethod.Options, HttpMethod.Patch, HttpMethod.Get];

    private static readonly string[] HeaderNames =
        ["Tus-Resumable", "Upload-Length", "Upload-Offset", "Content-Type", "Upload-Metadata", "Range", "Upload-Defer-Length", "If-Range", "Upload-Concat"];

    private static readonly string[] OddValues =
    [
        "", " ", "0", "1", "-1", "16", "15", "17", "+5", " 5", "5 ", "0x10", "1e3", "1.0", "00000000000000000001", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "104857600", "104857601", "1.0.0", "1.0.0, 1.0.0", "0.2.2", "application/offset+octet-stream",
        "application/offset+octet-stream; charset=utf-8", "APPLICATION/OFFSET+OCTET-STREAM", "text/plain", "bytes=0-3", "bytes=-1", "bytes=5-",
        "bytes=0-0,2-3,1-9", "bytes=9223372036854775807-", "bytes=3-1", "bytes=", "items=0-1", "filename d29ybGQ=", "filename", "filename !!!,a b c,,",
        "\u00e9", "\u00ff\u00fe", "%00", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z",
    ];

    private readonly FuzzServer _server;
    private readonly HttpClient _http;
    private readonly string _aliceBasic, _bobBasic, _wrongBasic;
    private readonly string?[] _blobs = new string?[WorkerCount];
    private int _errorsSeen;
    private readonly Lock _errorsLock = new();

    private TusTarget(FuzzServer server, DeviceCredentials alice, DeviceCredentials bob)
    {
        _server = server;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = WorkerCount * 2,
            // Header values are sent as raw bytes: Kestrel's parser is under test too.
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        { BaseAddress = server.Server.BaseUri };
        _aliceBasic = Basic(alice.User, alice.DeviceId, alice.Password);
        _bobBasic = Basic(bob.User, bob.DeviceId, bob.Password);
        _wrongBasic = Basic(alice.User, alice.DeviceId, "wrong-" + alice.Password);
    }

    public string Name => "tus";

    public int Workers => WorkerCount;

    public IReadOnlyList<byte[]> Seeds { get; } =
    [
        Input(0, 0, "Tus-Resumable: 1.0.0\nUpload-Length: 16\nUpload-Metadata: filename d29ybGQ=", ""),
        Input(0, 0, "Tus-Resumable: 1.0.0\nUpload-Length: 0", ""),
        Input(1, 0, "Tus-Resumable: 1.0.0\nUpload-Offset: 0\nContent-Type: application/offset+octet-stream", "0123456789abcdef"),
        Input(1, 0x10, "Tus-Resumable: 1.0.0\nUpload-Offset: 0\nContent-Type: application/offset+octet-stream", "0123456789"),
        Input(2, 0, "Tus-Resumable: 1.0.0", ""),
        Input(3, 0, "Tus-Resumable: 1.0.0", ""),
        Input(4, 1 << 2, "Range: bytes=0-3", ""),
        Input(4, 1 << 2, "", ""),
        Input(5, 0, "Tus-Resumable: 1.0.0", ""),
        Input(2, 1, "Tus-Resumable: 1.0.0", ""),
    ];

    /// <summary>Starts a server with alice and bob registered; the media quotas are lifted (they have their own tests) and uploads kept small.</summary>
    public static async Task<TusTarget> StartAsync()
    {
        var server = await FuzzServer.StartAsync(configure: o =>
        {
            o.Media.MaxUploadBytes = 1024 * 1024;
            o.Media.BytesPerDayPerAccount = long.MaxValue;
            o.Media.MaxConcurrentUploadsPerAccount = 1_000;
        });
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        return new TusTarget(server, alice, bob);
    }

    private static string Basic(string user, uint device, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}.{device}:{password}"));

    private static byte[] Input(int op, int flags, string headers, string body) =>
        [(byte)op, (byte)flags, .. Encoding.UTF8.GetBytes(headers), 0, .. Encoding.UTF8.GetBytes(body)];

    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        var random = mutator.Random;
        if (input.Length < 2)
        {
            return [(byte)random.Next(8), (byte)random.Next(32), 0];
        }
        var (headers, body) = Split(input);
        switch (random.Next(8))
        {
            case 0:
            {
                var copy = (byte[])input.Clone();
                copy[random.Next(2)] ^= (byte)(1 << random.Next(5));
                return copy;
            }
            case 1:
                return Join(input[0], input[1], headers, mutator.MutateBytes(body, other));
            case 2:
                return Join(input[0], input[1], Encoding.Latin1.GetString(mutator.MutateBytes(Encoding.Latin1.GetBytes(headers))), body);
            default:
                return Join(input[0], input[1], MutateLines(headers, random), body);
        }
    }

    private static string MutateLines(string headers, Random random)
    {
        var lines = headers.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        for (int n = 1 + random.Next(3); n > 0; n--)
        {
            int at = lines.Count == 0 ? 0 : random.Next(lines.Count);
            string name = at < lines.Count ? lines[at].Split(':')[0] : HeaderNames[random.Next(HeaderNames.Length)];
            switch (random.Next(lines.Count == 0 ? 1 : 5))
            {
                case 0:
                    lines.Insert(random.Next(lines.Count + 1), $"{HeaderNames[random.Next(HeaderNames.Length)]}: {OddValues[random.Next(OddValues.Length)]}");
                    break;
                case 1:
                    lines[at] = $"{name}: {OddValues[random.Next(OddValues.Length)]}";
                    break;
                case 2:
                    lines.RemoveAt(at);
                    break;
                case 3:
                    lines.Insert(at, lines[at]);
                    break;
                default:
                    lines[at] = HeaderNames[random.Next(HeaderNames.Length)] + lines[at][name.Length..];
                    break;
            }
        }
        return string.Join('\n', lines);
    }

    private static (string Headers, byte[] Body) Split(byte[] input)
    {
        var rest = input.AsSpan(2);
        int nul = rest.IndexOf((byte)0);
        return nul < 0 ? (Encoding.Latin1.GetString(rest), []) : (Encoding.Latin1.GetString(rest[..nul]), rest[(nul + 1)..].ToArray());
    }

    private static byte[] Join(byte op, byte flags, string headers, byte[] body)
    {
        byte[] joined = [op, flags, .. Encoding.Latin1.GetBytes(headers.Replace("\0", "", StringComparison.Ordinal)), 0, .. body];
        return joined.Length > Mutator.MaxInputBytes ? joined[..Mutator.MaxInputBytes] : joined;
    }

    public async ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        int op = input.Length > 0 ? input[0] & 7 : 0, flags = input.Length > 1 ? input[1] : 0;
        var (headers, body) = Split(input.Length >= 2 ? input : [0, 0]);
        var method = Methods[op];
        int which = (flags >> 2) & 3;
        string? fresh = null;
        string path;
        if (method == HttpMethod.Post || method == HttpMethod.Options)
        {
            path = MediaApi.Uploads;
        }
        else
        {
            switch (which)
            {
                case 0:
                    fresh = await CreateAsync(_aliceBasic, FreshLength);
                    path = MediaApi.BlobPath(fresh);
                    break;
                case 1:
                    path = MediaApi.BlobPath(_blobs[worker] ??= await UploadAsync(Encoding.UTF8.GetBytes("a finished blob of the fuzzer")));
                    break;
                case 2:
                    path = MediaApi.BlobPath(Convert.ToHexStringLower(body.Length >= 16 ? body[..16] : [.. body, .. new byte[16 - body.Length]]));
                    break;
                default:
                    // An odd id: whatever the body spells, escaped so it stays one path segment.
                    path = MediaApi.Uploads + "/" + Uri.EscapeDataString(Encoding.Latin1.GetString(body.AsSpan(0, Math.Min(body.Length, 80))));
                    break;
            }
        }
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        string basic = (flags & 3) switch { 0 => _aliceBasic, 1 => _bobBasic, 2 => _wrongBasic, _ => "Basic !!" + headers.Length };
        request.Headers.TryAddWithoutValidation("Authorization", basic);
        HttpContent content = (flags & 0x10) == 0 ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));
        if (method == HttpMethod.Patch || method == HttpMethod.Post || body.Length > 0 && method != HttpMethod.Get && method != HttpMethod.Head)
        {
            request.Content = content;
        }
        else
        {
            content.Dispose();
        }
        foreach (var line in headers.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            // Line breaks cannot travel inside a header value; the rest goes as it is.
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim().Replace("\r", "", StringComparison.Ordinal);
            // A name that is not an HTTP token cannot be sent at all (both adds refuse it): the line is skipped.
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
        int status;
        string code;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException ||
            e is HttpRequestException { HttpRequestError: HttpRequestError.Unknown } && e.InnerException is not IOException)
        {
            // The client library refused to send this header combination: nothing reached the server.
            await DeleteAsync(fresh, _aliceBasic);
            return "not sendable";
        }
        using (response)
        {
            var answer = await response.Content.ReadAsByteArrayAsync();
            status = (int)response.StatusCode;
            if (status >= 500)
            {
                throw new PropertyViolationException($"{method} {path} answered {status}: {Encoding.UTF8.GetString(answer)}");
            }
            code = ErrorCode(answer);
            if (method == HttpMethod.Post && response.StatusCode == HttpStatusCode.Created && response.Headers.Location is { } created)
            {
                await DeleteAsync(created.OriginalString[(created.OriginalString.LastIndexOf('/') + 1)..], basic);
            }
        }
        if (which == 1 && method == HttpMethod.Delete && status == 204)
        {
            _blobs[worker] = null;
        }
        await DeleteAsync(fresh, _aliceBasic);
        ThrowOnNewErrors();
        return $"{method} id{which} {status} {code}";
    }

    private async Task<string> CreateAsync(string basic, long length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(MediaApi.Uploads, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", basic);
        request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await _http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Created || response.Headers.Location is not { } location)
        {
            throw new PropertyViolationException($"a good creation was answered {(int)response.StatusCode}");
        }
        return location.OriginalString[(location.OriginalString.LastIndexOf('/') + 1)..];
    }

    private async Task<string> UploadAsync(byte[] bytes)
    {
        var id = await CreateAsync(_aliceBasic, bytes.Length);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri(MediaApi.BlobPath(id), UriKind.Relative));
        patch.Headers.TryAddWithoutValidation("Authorization", _aliceBasic);
        patch.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        patch.Headers.Add("Upload-Offset", "0");
        patch.Content = new ByteArrayContent(bytes);
        patch.Content.Headers.TryAddWithoutValidation("Content-Type", MediaApi.OffsetContentType);
        using var response = await _http.SendAsync(patch);
        if (response.StatusCode != HttpStatusCode.NoContent)
        {
            throw new PropertyViolationException($"a good PATCH was answered {(int)response.StatusCode}");
        }
        return id;
    }

    private async Task DeleteAsync(string? id, string basic)
    {
        if (id is null)
        {
            return;
        }
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(MediaApi.BlobPath(id), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", basic);
        request.Headers.Add("Tus-Resumable", MediaApi.TusVersion);
        using var response = await _http.SendAsync(request);
        if ((int)response.StatusCode >= 500)
        {
            throw new PropertyViolationException($"cleaning up upload {id} was answered {(int)response.StatusCode}");
        }
    }

    private void ThrowOnNewErrors()
    {
        lock (_errorsLock)
        {
            _server.ThrowOnNewErrors(ref _errorsSeen);
        }
    }

    private static string ErrorCode(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize<ApiError>(body, ParleyJson.Options)?.Code ?? "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    public async Task CheckStillServingAsync()
    {
        var bytes = new byte[100_000];
        new Random(5).NextBytes(bytes);
        var id = await UploadAsync(bytes);
        var back = await _http.GetByteArrayAsync(new Uri(MediaApi.BlobPath(id), UriKind.Relative));
        if (!back.AsSpan().SequenceEqual(bytes))
        {
            throw new PropertyViolationException("a good client's upload came back changed");
        }
        await _server.CheckStillServingAsync();
        ThrowOnNewErrors();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>A body the client cannot know the length of, so it goes chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override bool CanSeek => false;
    }
}
