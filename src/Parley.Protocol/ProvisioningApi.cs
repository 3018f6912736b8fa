namespace Parley.Protocol;

/// <summary>
/// HTTP JSON endpoints of the provisioning relay: a new device opens a channel and waits on it; an
/// existing device of the account reads who asks and answers once with a sealed ProvisionMessage.
/// The relay never sees a key: the new device's ephemeral key travels only in the link code.
/// </summary>
public static class ProvisioningApi
{
    /// <summary>POST <see cref="LinkChannelRequest"/> → <see cref="LinkChannel"/> (no authentication: the asking device has no account yet).</summary>
    public const string Channels = "/v1/provisioning";

    /// <summary>
    /// <c>/v1/provisioning/{channel}</c>: GET (the new device; waits up to 20 s) → <see cref="ProvisionEnvelope"/>, 204
    /// while not yet answered; PUT with HTTP Basic of a device of the account and a <see cref="ProvisionEnvelope"/> → 204, once.
    /// </summary>
    public static string Channel(string channel) => $"{Channels}/{Uri.EscapeDataString(channel)}";

    /// <summary><c>/v1/provisioning/{channel}/request</c>: GET with HTTP Basic of a device of an account → <see cref="LinkChannelInfo"/>.</summary>
    public static string Request(string channel) => $"{Channel(channel)}/request";
}

/// <summary>Body of POST /v1/provisioning: the name the new device asks to be shown under.</summary>
public sealed record LinkChannelRequest(string? DeviceName = null);

/// <summary>A new provisioning channel: its id (a 128-bit secret, part of the link code) and when it expires (unix ms).</summary>
public sealed record LinkChannel(string Channel, long ExpiresAt);

/// <summary>What an approving device is shown about a waiting channel.</summary>
public sealed record LinkChannelInfo(string DeviceName, long ExpiresAt);

/// <summary>A sealed ProvisionMessage, base64.</summary>
public sealed record ProvisionEnvelope(string Envelope);
