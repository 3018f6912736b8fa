namespace Parley.Protocol;

/// <summary>
/// HTTP JSON endpoints for registration and device linking (everything else is on the WebSocket).
/// Bodies are snake_case JSON; errors are <c>{"code": "...", "message": "..."}</c> with a 4xx status.
/// </summary>
public static class RegistrationApi
{
    /// <summary>POST: <see cref="RegisterRequest"/> → <see cref="DeviceCredentials"/>.</summary>
    public const string Accounts = "/v1/accounts";

    /// <summary>POST <see cref="CodeRequest"/>: sends a verification code (registration policy "code").</summary>
    public const string VerificationCode = "/v1/accounts/code";

    /// <summary>POST with HTTP Basic auth of an existing device (user.device:password): <see cref="LinkDeviceRequest"/> → <see cref="DeviceCredentials"/>.</summary>
    public const string Devices = "/v1/devices";

    /// <summary>POST with header X-Admin-Token: → <see cref="InviteResponse"/>.</summary>
    public const string Invites = "/v1/admin/invites";

    /// <summary>The WebSocket endpoint.</summary>
    public const string WebSocket = "/v1/ws";
}

/// <summary>Body of POST /v1/accounts.</summary>
public sealed record RegisterRequest(string User, string? Phone = null, string? Code = null, string? Invite = null, string? DeviceName = null);

/// <summary>Body of POST /v1/accounts/code.</summary>
public sealed record CodeRequest(string User, string? Phone = null);

/// <summary>Body of POST /v1/devices.</summary>
public sealed record LinkDeviceRequest(string? DeviceName = null);

/// <summary>The credentials of one device; the password is shown once and stored by the server only as a salted hash.</summary>
public sealed record DeviceCredentials(string User, uint DeviceId, string Password);

/// <summary>An admin-issued invite token for registration policy "invite".</summary>
public sealed record InviteResponse(string Invite);

/// <summary>The body of every HTTP error.</summary>
public sealed record ApiError(string Code, string Message);
