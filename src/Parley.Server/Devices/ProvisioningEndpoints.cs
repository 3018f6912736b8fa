using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Protocol;
using Parley.Server.Accounts;

namespace Parley.Server.Devices;

/// <summary>
/// The provisioning relay over HTTP (docs/protocol.md, "Linking a device by code"). Errors use the
/// registration API's shape: <c>bad_link_code</c> (404), <c>link_code_expired</c> (410),
/// <c>link_code_used</c> (409), <c>unauthorized</c> (401), <c>bad_request</c> (400), <c>busy</c> (503).
/// </summary>
public static class ProvisioningEndpoints
{
    /// <summary>How long the new device's GET waits for the answer before it is told to ask again (204).</summary>
    private static readonly TimeSpan LongPoll = TimeSpan.FromSeconds(20);

    public static void MapProvisioning(this IEndpointRouteBuilder app)
    {
        app.MapPost(ProvisioningApi.Channels, Open).RequireRateLimiting(RegistrationEndpoints.RateLimitPolicy);
        app.MapGet(ProvisioningApi.Channels + "/{channel}", WaitAsync);
        app.MapGet(ProvisioningApi.Channels + "/{channel}/request", Describe).RequireRateLimiting(RegistrationEndpoints.RateLimitPolicy);
        app.MapPut(ProvisioningApi.Channels + "/{channel}", Answer).RequireRateLimiting(RegistrationEndpoints.RateLimitPolicy);
    }

    private static async Task<IResult> Open(HttpContext http, ProvisioningChannels channels)
    {
        var (body, refusal) = await ParleyJson.ReadAsync<LinkChannelRequest>(http);
        if (refusal is not null)
        {
            return refusal;
        }
        var request = body ?? new LinkChannelRequest();
        if (!DeviceName.IsValid(request.DeviceName))
        {
            return RegistrationEndpoints.Error(400, "bad_request", DeviceName.Rules);
        }
        var channel = channels.Open(string.IsNullOrWhiteSpace(request.DeviceName) ? "linked" : request.DeviceName);
        return channel is null
            ? RegistrationEndpoints.Error(503, "busy", "too many link requests are open; try again in a few minutes")
            : Results.Json(new LinkChannel(channel.Id, channel.ExpiresAt.ToUnixTimeMilliseconds()), ParleyJson.Options);
    }

    private static async Task<IResult> WaitAsync(string channel, ProvisioningChannels channels, TimeProvider time, CancellationToken cancellationToken)
    {
        var lookup = channels.Find(channel);
        if (Problem(lookup) is { } problem)
        {
            return problem;
        }
        var found = lookup.Channel!;
        var wait = TimeSpan.FromTicks(Math.Min(LongPoll.Ticks, Math.Max(0, (found.ExpiresAt - time.GetUtcNow()).Ticks)));
        try
        {
            var envelope = await found.Answer.WaitAsync(wait, time, cancellationToken);
            return Results.Json(new ProvisionEnvelope(envelope), ParleyJson.Options);
        }
        catch (TimeoutException)
        {
            return Results.NoContent();
        }
    }

    private static IResult Describe(HttpContext http, string channel, ProvisioningChannels channels, AccountDirectory directory)
    {
        if (RegistrationEndpoints.BasicAuth(http, directory) is null)
        {
            return RegistrationEndpoints.Error(401, "unauthorized", "approve a link with the credentials of a device of the account (Basic user.device:password)");
        }
        var lookup = channels.Find(channel);
        if (Problem(lookup) is { } problem)
        {
            return problem;
        }
        return lookup.Channel!.Answer.IsCompleted
            ? RegistrationEndpoints.Error(409, "link_code_used", "this link code was used already; ask the new device for a new one")
            : Results.Json(new LinkChannelInfo(lookup.Channel.DeviceName, lookup.Channel.ExpiresAt.ToUnixTimeMilliseconds()), ParleyJson.Options);
    }

    private static async Task<IResult> Answer(HttpContext http, string channel, ProvisioningChannels channels, AccountDirectory directory)
    {
        if (RegistrationEndpoints.BasicAuth(http, directory) is null)
        {
            return RegistrationEndpoints.Error(401, "unauthorized", "approve a link with the credentials of a device of the account (Basic user.device:password)");
        }
        var lookup = channels.Find(channel);
        if (Problem(lookup) is { } problem)
        {
            return problem;
        }
        // The largest sealed message in base64, with room for the JSON around it.
        var (body, refusal) = await ParleyJson.ReadAsync<ProvisionEnvelope>(http, (WireLimits.MaxProvisioningEnvelopeBytes + 2) / 3 * 4 + 256);
        if (refusal is not null)
        {
            return refusal;
        }
        // Checked as base64 here, though opaque: the approver hears of a broken envelope, not the new device.
        // (The body's limit bounds the buffer.)
        if (body?.Envelope is not { Length: > 0 } envelope
            || !Convert.TryFromBase64String(envelope, new byte[envelope.Length * 3 / 4 + 3], out int decoded) || decoded > WireLimits.MaxProvisioningEnvelopeBytes)
        {
            return RegistrationEndpoints.Error(400, "bad_request", $"envelope: base64 of at most {WireLimits.MaxProvisioningEnvelopeBytes} bytes");
        }
        return lookup.Channel!.TryAnswer(envelope)
            ? Results.NoContent()
            : RegistrationEndpoints.Error(409, "link_code_used", "this link code was used already; ask the new device for a new one");
    }

    private static IResult? Problem((ProvisioningChannel? Channel, string? Problem) found) => found.Problem switch
    {
        null => null,
        "link_code_expired" => RegistrationEndpoints.Error(410, "link_code_expired", "this link code has expired; ask the new device for a new one"),
        _ => RegistrationEndpoints.Error(404, "bad_link_code", "no such link code: check it, or ask the new device for a new one"),
    };
}
