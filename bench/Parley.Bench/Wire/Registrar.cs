using System.Net.Http.Json;
using System.Text.Json;
using Parley.Protocol;

namespace Parley.Bench.Wire;

/// <summary>Registers bench users over HTTP (POST /v1/accounts), several at a time.</summary>
internal sealed class Registrar : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly HttpClient _http;

    public Registrar(Uri server)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>
    /// A user-name prefix unique to this run, so runs against a long-lived server never collide.
    /// Starts with a letter and stays within the user-name rules.
    /// </summary>
    public static string NewRunPrefix() => "b" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));

    /// <summary>Registers <paramref name="count"/> users named PREFIX-i, each with one device, and returns their credentials in order.</summary>
    public async Task<DeviceCredentials[]> RegisterAsync(string prefix, int count, int concurrency, CancellationToken ct)
    {
        var result = new DeviceCredentials[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (i, token) =>
        {
            result[i] = await RegisterOneAsync($"{prefix}-{i}", token);
        });
        return result;
    }

    private async Task<DeviceCredentials> RegisterOneAsync(string user, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var response = await _http.PostAsJsonAsync(RegistrationApi.Accounts, new RegisterRequest(user, DeviceName: "bench"), Json, ct);
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadFromJsonAsync<DeviceCredentials>(Json, ct)
                    ?? throw new InvalidOperationException("empty registration answer");
            }
            var body = await response.Content.ReadAsStringAsync(ct);
            // A rate limit left at its default shows up here; back off a little rather than fail the run.
            if ((int)response.StatusCode == 429 && attempt < 20)
            {
                await Task.Delay(500, ct);
                continue;
            }
            throw new InvalidOperationException($"registering {user}: HTTP {(int)response.StatusCode} {body}");
        }
    }

    public void Dispose() => _http.Dispose();
}
