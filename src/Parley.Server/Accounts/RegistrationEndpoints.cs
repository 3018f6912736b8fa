using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Configuration;

namespace Parley.Server.Accounts;

/// <summary>HTTP endpoints for registration, device linking and invites (docs/protocol.md).</summary>
public static class RegistrationEndpoints
{
    /// <summary>The rate-limiter policy name registration endpoints use.</summary>
    public const string RateLimitPolicy = "registration";

    public static void MapRegistration(this IEndpointRouteBuilder app)
    {
        app.MapPost(RegistrationApi.Accounts, Register).RequireRateLimiting(RateLimitPolicy);
        app.MapPost(RegistrationApi.VerificationCode, SendCode).RequireRateLimiting(RateLimitPolicy);
        app.MapPost(RegistrationApi.Devices, LinkDevice).RequireRateLimiting(RateLimitPolicy);
        app.MapPost(RegistrationApi.Invites, CreateInvite);
    }

    internal static IResult Error(int status, string code, string message) => ParleyJson.Error(status, code, message);

    private static async Task<IResult> Register(HttpContext http, AccountDirectory directory, IAccountStore store,
        VerificationCodes codes, IOptions<ParleyOptions> options, TimeProvider time)
    {
        var (request, refusal) = await ParleyJson.ReadAsync<RegisterRequest>(http);
        if (refusal is not null)
        {
            return refusal;
        }
        if (request is null || !UserName.IsValid(request.User))
        {
            return Error(400, "bad_request", UserName.Rules);
        }
        if (request.Phone is { Length: > 20 })
        {
            return Error(400, "bad_request", "a phone number is at most 20 characters");
        }
        if (!DeviceName.IsValid(request.DeviceName))
        {
            return Error(400, "bad_request", DeviceName.Rules);
        }
        switch (options.Value.Registration.Policy)
        {
            case RegistrationPolicy.Code when string.IsNullOrEmpty(request.Code):
                return Error(403, "code_required", $"request a code with POST {RegistrationApi.VerificationCode} first");
            case RegistrationPolicy.Code when !codes.Redeem(request.User, request.Code):
                return Error(403, "bad_code", "the verification code is wrong or expired");
            case RegistrationPolicy.Invite when string.IsNullOrEmpty(request.Invite):
                return Error(403, "invite_required", "this server registers by invitation only");
            case RegistrationPolicy.Invite when directory.Find(request.User) is not null:
                return Error(409, "user_taken", "that user name is taken");
            case RegistrationPolicy.Invite when !store.UseInvite(HashToken(request.Invite), time.GetUtcNow().ToUnixTimeMilliseconds()):
                return Error(403, "bad_invite", "the invite is unknown or already used");
        }
        var credentials = directory.Create(request.User, request.Phone, request.DeviceName ?? "primary");
        return credentials is null
            ? Error(409, "user_taken", "that user name is taken")
            : Results.Json(credentials, ParleyJson.Options);
    }

    private static async Task<IResult> SendCode(HttpContext http, VerificationCodes codes, IVerificationCodeSender sender,
        IOptions<ParleyOptions> options, AccountDirectory directory)
    {
        var (request, refusal) = await ParleyJson.ReadAsync<CodeRequest>(http);
        if (refusal is not null)
        {
            return refusal;
        }
        if (request is null || !UserName.IsValid(request.User) || request.Phone is { Length: > 20 })
        {
            return Error(400, "bad_request", "a valid user name is required");
        }
        if (options.Value.Registration.Policy != RegistrationPolicy.Code)
        {
            return Error(400, "bad_request", "this server does not use verification codes");
        }
        if (directory.Find(request.User) is not null)
        {
            return Error(409, "user_taken", "that user name is taken");
        }
        var code = codes.Issue(request.User, TimeSpan.FromMinutes(options.Value.Registration.CodeLifetimeMinutes));
        await sender.SendAsync(request.User, request.Phone, code, http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> LinkDevice(HttpContext http, AccountDirectory directory, IOptions<ParleyOptions> options)
    {
        var existing = BasicAuth(http, directory);
        if (existing is null)
        {
            return Error(401, "unauthorized", "link a device with the credentials of an existing device (Basic user.device:password)");
        }
        var (body, refusal) = await ParleyJson.ReadAsync<LinkDeviceRequest>(http);
        if (refusal is not null)
        {
            return refusal;
        }
        var request = body ?? new LinkDeviceRequest();
        if (!DeviceName.IsValid(request.DeviceName))
        {
            return Error(400, "bad_request", DeviceName.Rules);
        }
        var credentials = directory.AddDevice(existing.Value.Account, request.DeviceName ?? "linked", options.Value.Limits.MaxDevicesPerAccount);
        return credentials is null
            ? Error(403, "too_many_devices", $"an account has at most {options.Value.Limits.MaxDevicesPerAccount} devices")
            : Results.Json(credentials, ParleyJson.Options);
    }

    private static IResult CreateInvite(HttpContext http, IAccountStore store, IOptions<ParleyOptions> options, TimeProvider time)
    {
        var adminToken = options.Value.AdminToken;
        var presented = http.Request.Headers["X-Admin-Token"].ToString();
        if (string.IsNullOrEmpty(adminToken) ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(adminToken), Encoding.UTF8.GetBytes(presented)))
        {
            return Error(401, "unauthorized", "admin token missing or wrong");
        }
        var token = DeviceSecret.Base64Url(RandomNumberGenerator.GetBytes(18));
        store.AddInvite(HashToken(token), time.GetUtcNow().ToUnixTimeMilliseconds());
        return Results.Json(new InviteResponse(token), ParleyJson.Options);
    }

    private static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The device named by an HTTP Basic header <c>user.device:password</c>; null when missing or wrong.</summary>
    internal static (Account Account, DeviceRecord Device)? BasicAuth(HttpContext http, AccountDirectory directory)
    {
        if (!AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return null;
        }
        // user.device:password — user names cannot hold ':', and the device id is after the last '.'.
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }
        var login = decoded[..colon];
        int dot = login.LastIndexOf('.');
        if (dot < 0 || !uint.TryParse(login[(dot + 1)..], out var deviceId))
        {
            return null;
        }
        return directory.Authenticate(login[..dot], deviceId, decoded[(colon + 1)..]);
    }
}
