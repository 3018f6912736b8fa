namespace Parley.Client.Devices;

/// <summary>
/// A new device's waiting link request: show <see cref="Code"/> (as text or a QR code) and
/// <see cref="Fingerprint"/>, then await <see cref="Linked"/>, which completes with the linked,
/// not yet connected client once a device of the account approves, or fails with
/// <see cref="ParleyException"/> <c>link_code_expired</c> when nobody did in time.
/// </summary>
public sealed class LinkRequest
{
    internal LinkRequest(string code, string fingerprint, DateTimeOffset expiresAt, Task<ParleyClient> linked)
    {
        Code = code;
        Fingerprint = fingerprint;
        ExpiresAt = expiresAt;
        Linked = linked;
    }

    /// <summary>The link code to enter (or scan) on a device of the account: works once, until <see cref="ExpiresAt"/>.</summary>
    public string Code { get; }

    /// <summary>The fingerprint of this request's key; the approving device shows the same one.</summary>
    public string Fingerprint { get; }

    /// <summary>When the code stops working (the server's clock).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Completes with this device's client once linked (its profile saved and its keys published).</summary>
    public Task<ParleyClient> Linked { get; }
}
