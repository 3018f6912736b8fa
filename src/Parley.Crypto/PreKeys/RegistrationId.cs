using System.Security.Cryptography;

namespace Parley.Crypto.PreKeys;

/// <summary>Registration ids as libsignal makes them: random, 14-bit, never zero (1..16380).</summary>
public static class RegistrationId
{
    /// <summary>The largest id <see cref="Generate"/> returns.</summary>
    public const uint MaxValue = 16380;

    /// <summary>A fresh random id in 1..16380.</summary>
    public static uint Generate() => (uint)RandomNumberGenerator.GetInt32(1, (int)MaxValue + 1);
}
