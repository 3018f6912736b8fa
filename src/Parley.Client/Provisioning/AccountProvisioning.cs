using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Parley.Protocol;

namespace Parley.Client.Provisioning;

/// <summary>
/// The HTTP side of getting a device: registering an account, asking for a verification code and
/// linking another device. Checks every server address and answer (a hostile server gets
/// <see cref="ParleyException"/>, never a half-made profile); saving the credentials is the caller's.
/// </summary>
internal static class AccountProvisioning
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Checks the arguments of a registration, then creates the account; returns the first device's credentials.</summary>
    public static async Task<DeviceCredentials> RegisterAsync(Uri server, string user, string? code, string? invite, string? deviceName,
        ParleyClientOptions? options, CancellationToken cancellationToken)
    {
        RequireSecureTransport(server, options);
        return await PostAsync(server, RegistrationApi.Accounts, new RegisterRequest(user, null, code, invite, deviceName), null, cancellationToken);
    }

    /// <summary>Adds a device to the account of <paramref name="credentials"/>; returns the new device's credentials.</summary>
    public static async Task<DeviceCredentials> LinkAsync(DeviceCredentialsProfile credentials, string? deviceName, ParleyClientOptions? options,
        CancellationToken cancellationToken)
    {
        RequireSecureTransport(credentials.Server, options);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}.{credentials.DeviceId}:{credentials.Password}"));
        return await PostAsync(credentials.Server, RegistrationApi.Devices, new LinkDeviceRequest(deviceName),
            new AuthenticationHeaderValue("Basic", basic), cancellationToken);
    }

    /// <summary>Asks the server to send a verification code for <paramref name="user"/>.</summary>
    public static async Task RequestVerificationCodeAsync(Uri server, string user, CancellationToken cancellationToken)
    {
        using var http = NewHttp();
        using var response = await http.PostAsJsonAsync(new Uri(server, RegistrationApi.VerificationCode), new CodeRequest(user), Json, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary>Why <paramref name="server"/> cannot be a server address, in words for people, or null when it can.</summary>
    public static string? ServerAddressProblem(Uri server)
    {
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            return "must be an http:// or https:// address";
        }
        var root = $"{server.Scheme}://{server.Authority}";
        if (server.AbsolutePath != "/" || server.Query.Length > 0 || server.Fragment.Length > 0)
        {
            return $"takes the server's address alone, without a path or query: try {root}";
        }
        if (server.UserInfo.Length > 0)
        {
            return $"must not carry a user name or password: try {root}";
        }
        return null;
    }

    /// <summary>
    /// Throws unless credentials may go to <paramref name="server"/>: https, this machine, or
    /// <see cref="ParleyClientOptions.AllowInsecureTransport"/>. Anyone on the path could read a
    /// password sent in clear, and replay it as this device.
    /// </summary>
    public static void RequireSecureTransport(Uri server, ParleyClientOptions? options)
    {
        if (server.Scheme == Uri.UriSchemeHttps || server.IsLoopback || options?.AllowInsecureTransport == true)
        {
            return;
        }
        throw new ParleyException(ErrorCode.Unauthorized,
            $"refusing to send credentials in clear to {server.Host}: use an https:// server address, or allow it with --insecure (AllowInsecureTransport)",
            "insecure_transport");
    }

    private static async Task<DeviceCredentials> PostAsync<T>(Uri server, string path, T body, AuthenticationHeaderValue? auth, CancellationToken cancellationToken)
    {
        using var http = NewHttp();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path))
        {
            Content = JsonContent.Create(body, options: Json),
        };
        request.Headers.Authorization = auth;
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        try
        {
            var creds = await response.Content.ReadFromJsonAsync<DeviceCredentials>(Json, cancellationToken);
            if (creds is null || !UserName.IsValid(creds.User) || creds.DeviceId == 0 || string.IsNullOrEmpty(creds.Password))
            {
                throw new ParleyException(ErrorCode.BadRequest, "The server answered with malformed credentials.");
            }
            return creds;
        }
        catch (JsonException e)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server answered with malformed credentials.", inner: e);
        }
    }

    private static HttpClient NewHttp() => new()
    {
        Timeout = TimeSpan.FromSeconds(30),
        // Answers are small JSON bodies; a hostile server must not make us buffer more.
        MaxResponseContentBufferSize = 64 * 1024,
    };

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<ApiError>(Json, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException)
        {
        }
        var apiCode = error?.Code ?? ((int)response.StatusCode >= 500 ? "internal" : "bad_request");
        var code = apiCode switch
        {
            "unauthorized" => ErrorCode.Unauthorized,
            "rate_limited" => ErrorCode.RateLimited,
            "internal" => ErrorCode.Internal,
            _ => ErrorCode.BadRequest,
        };
        var retryAfter = response.Headers.RetryAfter?.Delta;
        throw new ParleyException(code, error?.Message ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", apiCode, retryAfter);
    }
}
