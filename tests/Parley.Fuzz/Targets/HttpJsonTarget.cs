using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server;

namespace Parley.Fuzz.Targets;

/// <summary>
/// The HTTP JSON endpoints (register, verification code, link device, invites) of a real server
/// over loopback. An input is a selector byte (endpoint, content type, credentials, admin token)
/// and a body; bodies are mutated as JSON. Property: every answer is below 500 and the server
/// logs no error; afterwards good clients are served.
/// </summary>
public sealed class HttpJsonTarget : IFuzzTarget
{
    private const int WorkerCount = 4;

    private static readonly string[] Paths = [RegistrationApi.Accounts, RegistrationApi.VerificationCode, RegistrationApi.Devices, RegistrationApi.Invites];
    private static readonly string?[] ContentTypes = ["application/json", "text/plain", null, "application/json; charset=utf-16"];
    private static readonly string[] Keys = ["user", "phone", "code", "invite", "device_name"];

    private readonly FuzzServer _server;
    private readonly HttpClient _http;
    private readonly string _goodBasic;
    private readonly Lock _errorsLock = new();
    private int _errorsSeen;

    private HttpJsonTarget(FuzzServer server, DeviceCredentials alice)
    {
        _server = server;
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = WorkerCount }) { BaseAddress = server.Server.BaseUri };
        _goodBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{alice.User}.{alice.DeviceId}:{alice.Password}"));
    }

    public string Name => "http-json";

    public int Workers => WorkerCount;

    public IReadOnlyList<byte[]> Seeds { get; } =
    [
        Input(0, """{"user":"newuser","phone":"+15551234567","device_name":"phone"}"""),
        Input(0, """{"user":"alice","invite":"abc","code":"123456"}"""),
        Input(1, """{"user":"codeuser","phone":"+15551234567"}"""),
        Input(2 | (1 << 4), """{"device_name":"laptop"}"""),
        Input(2 | (3 << 4), """{}"""),
        Input(3 | (1 << 6), """{}"""),
    ];

    public static async Task<HttpJsonTarget> StartAsync()
    {
        var server = await FuzzServer.StartAsync();
        return new HttpJsonTarget(server, await server.RegisterAsync("alice"));
    }

    private static byte[] Input(int selector, string json) => [(byte)selector, .. Encoding.UTF8.GetBytes(json)];

    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        if (input.Length == 0)
        {
            return [(byte)mutator.Random.Next(256)];
        }
        if (mutator.Random.Next(8) == 0)
        {
            return [(byte)(input[0] ^ (1 << mutator.Random.Next(7))), .. input.AsSpan(1)];
        }
        return [input[0], .. JsonMutator.Mutate(input[1..], mutator, Keys)];
    }

    public async ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        int selector = input.Length > 0 ? input[0] : 0;
        var path = Paths[selector & 3];
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        var content = new ByteArrayContent(input.Length > 1 ? input[1..] : []);
        content.Headers.ContentType = ContentTypes[(selector >> 2) & 3] is { } type ? MediaTypeHeaderValue.Parse(type) : null;
        request.Content = content;
        switch ((selector >> 4) & 3)
        {
            case 1:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _goodBasic);
                break;
            case 2:
                request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(input.AsSpan(1, Math.Min(input.Length - 1, 40))));
                break;
            case 3:
                request.Headers.TryAddWithoutValidation("Authorization", "Basic !!not base64");
                break;
        }
        request.Headers.TryAddWithoutValidation("X-Admin-Token", (selector & 0x40) != 0 ? FuzzServer.AdminToken : "wrong");
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        int status = (int)response.StatusCode;
        if (status >= 500)
        {
            throw new PropertyViolationException($"{path} answered {status}: {Encoding.UTF8.GetString(body)}");
        }
        lock (_errorsLock)
        {
            _server.ThrowOnNewErrors(ref _errorsSeen);
        }
        return $"{path} {status} {ErrorCode(body)}";
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
        await _server.CheckStillServingAsync();
        lock (_errorsLock)
        {
            _server.ThrowOnNewErrors(ref _errorsSeen);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }
}
