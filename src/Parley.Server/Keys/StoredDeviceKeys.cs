namespace Parley.Server.Keys;

/// <summary>The long-lived public keys of one device (no one-time prekeys).</summary>
public sealed record StoredDeviceKeys(
    byte[] IdentityKey,
    uint RegistrationId,
    StoredSignedKey? SignedPreKey,
    StoredSignedKey? KyberLastResort);
