using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Accounts;
using Parley.Server.Configuration;

namespace Parley.Fuzz.Targets;

/// <summary>
/// The HTTP JSON endpoints (register, verification code, link device, invites) of real servers
/// over loopback, one per registration policy (open, code, invite). An input is a selector byte
/// (endpoint, content type, credentials), a flags byte (server, admin token) and a body; bodies
/// are mutated as JSON. Property: every answer is below 500 and no server logs an error;
/// afterwards good clients are served.
/// </summary>
public sealed class HttpJsonTarget : IFuzzTarget
{
    private const int WorkerCount = 4;

    private static readonly string[] Paths = [RegistrationApi.Accounts, RegistrationApi.VerificationCode, RegistrationApi.Devices, RegistrationApi.Invites];
    private static readonly string?[] ContentTypes = ["application/json", "text/plain", null, "application/json; charset=utf-16"];
    private static readonly string[] Keys = ["user", "phone", "code", "invite", "device_name"];
    private static readonly RegistrationPolicy[] Policies = [RegistrationPolicy.Open, RegistrationPolicy.Code, RegistrationPolicy.Invite];

    private readonly FuzzServer[] _servers;
    private readonly HttpClient[] _http;
    private readonly string[] _goodBasic;
    private readonly int[] _errorsSeen;
    private readonly Lock _errorsLock = new();

    private HttpJsonTarget(FuzzServer[] servers, DeviceCredentials[] alices)
    {
        _servers = servers;
        _http = [.. servers.Select(s => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = WorkerCount }) { BaseAddress = s.Server.BaseUri })];
        _goodBasic = [.. alices.Select(a => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{a.User}.{a.DeviceId}:{a.Password}")))];
        _errorsSeen = new int[servers.Length];
    }

    public string Name => "http-json";

    public int Workers => WorkerCount;

    public IReadOnlyList<byte[]> Seeds { get; } =
    [
        Input(0, 0, """{"user":"newuser","phone":"+15551234567","device_name":"phone"}"""),
        Input(0, 2, """{"user":"alice","invite":"abc","code":"123456"}"""),
        Input(0, 4, """{"user":"inviteduser","invite":"abcdefghijklmnopqrstuvwx"}"""),
        Input(1, 2, """{"user":"codeuser","phone":"+15551234567"}"""),
        Input(2 | (1 << 4), 0, """{"device_name":"laptop"}"""),
        Input(2 | (3 << 4), 0, """{}"""),
        Input(3, 1, """{}"""),
    ];

    /// <summary>Starts one server per registration policy, each with a registered "alice" (accounts under code or invite policies are made directly).</summary>
    public static async Task<HttpJsonTarget> StartAsync()
    {
        var servers = new List<FuzzServer>();
        var alices = new List<DeviceCredentials>();
        foreach (var policy in Policies)
        {
            var server = await FuzzServer.StartAsync(policy);
            servers.Add(server);
            alices.Add(server.Get<AccountDirectory>().Create("alice", null, "primary")!);
        }
        return new HttpJsonTarget([.. servers], [.. alices]);
    }

    private static byte[] Input(int selector, int flags, string json) => [(byte)selector, (byte)flags, .. Encoding.UTF8.GetBytes(json)];

    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        if (input.Length < 2)
        {
            return [(byte)mutator.Random.Next(256), (byte)mutator.Random.Next(8)];
        }
        if (mutator.Random.Next(8) == 0)
        {
            var copy = (byte[])input.Clone();
            copy[mutator.Random.Next(2)] ^= (byte)(1 << mutator.Random.Next(7));
            return copy;
        }
        return [input[0], input[1], .. JsonMutator.Mutate(input[2..], mutator, Keys)];
    }

    public async ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        int selector = input.Length > 0 ? input[0] : 0, flags = input.Length > 1 ? input[1] : 0;
        int server = ((flags >> 1) & 3) % _servers.Length;
        var body = input.Length > 2 ? input[2..] : [];
        var path = Paths[selector & 3];
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = ContentTypes[(selector >> 2) & 3] is { } type ? MediaTypeHeaderValue.Parse(type) : null;
        request.Content = content;
        switch ((selector >> 4) & 3)
        {
            case 1:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _goodBasic[server]);
                break;
            case 2:
                request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(body.AsSpan(0, Math.Min(body.Length, 40))));
                break;
            case 3:
                request.Headers.TryAddWithoutValidation("Authorization", "Basic !!not base64");
                break;
        }
        request.Headers.TryAddWithoutValidation("X-Admin-Token", (flags & 1) != 0 ? FuzzServer.AdminToken : "wrong");
        using var response = await _http[server].SendAsync(request);
        var answer = await response.Content.ReadAsByteArrayAsync();
        int status = (int)response.StatusCode;
        if (status >= 500)
        {
            throw new PropertyViolationException($"{path} answered {status}: {Encoding.UTF8.GetString(answer)}");
        }
        ThrowOnNewErrors();
        return $"{Policies[server]} {path} {status} {ErrorCode(answer)}";
    }

    private void ThrowOnNewErrors()
    {
        lock (_errorsLock)
        {
            for (int i = 0; i < _servers.Length; i++)
            {
                _servers[i].ThrowOnNewErrors(ref _errorsSeen[i]);
            }
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
        // The good clients register themselves, which only the open server allows; the others must answer their health check.
        await _servers[0].CheckStillServingAsync();
        foreach (var http in _http)
        {
            using var health = await http.GetAsync(new Uri("/v1/health", UriKind.Relative));
            health.EnsureSuccessStatusCode();
        }
        ThrowOnNewErrors();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var http in _http)
        {
            http.Dispose();
        }
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}
