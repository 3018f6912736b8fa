namespace Parley.Client;

/// <summary>
/// Who this device is and where its server is: what a profile folder holds besides messages.
/// <see cref="ToString"/> never includes the password.
/// </summary>
public sealed class DeviceCredentialsProfile(Uri server, string user, uint deviceId, string password)
{
    /// <summary>The server's base address (http or https).</summary>
    public Uri Server { get; } = server;

    /// <summary>The account's user name.</summary>
    public string User { get; } = user;

    /// <summary>This device's id within the account (1 for the device that registered).</summary>
    public uint DeviceId { get; } = deviceId;

    /// <summary>The device secret issued by the server.</summary>
    public string Password { get; } = password;

    /// <inheritdoc />
    public override string ToString() => $"{User}.{DeviceId}@{Server}";
}
