using System.Security.Cryptography;

namespace Parley.Server.Accounts;

/// <summary>
/// Device passwords: 32 random bytes made by the server. Because they are random, not chosen by a
/// person, a salted SHA-256 is enough to store them (no dictionary to slow down), and checking
/// stays cheap for thousands of reconnects.
/// </summary>
public static class DeviceSecret
{
    public static string NewPassword() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(16);

    public static byte[] Hash(byte[] salt, string password) =>
        SHA256.HashData([.. salt, .. System.Text.Encoding.UTF8.GetBytes(password)]);

    /// <summary>Constant-time check of a presented password against the stored hash.</summary>
    public static bool Matches(DeviceRecord device, string password) =>
        CryptographicOperations.FixedTimeEquals(Hash(device.Salt, password), device.SecretHash);

    public static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
