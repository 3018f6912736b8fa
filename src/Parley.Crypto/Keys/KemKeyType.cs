namespace Parley.Crypto.Keys;

/// <summary>
/// KEM algorithms a prekey can use, with libsignal's type bytes. <see cref="Kyber1024"/> (0x08) is what
/// libsignal deploys for PQXDH and accepts by default; <see cref="MlKem1024"/> (0x0A) is FIPS 203 ML-KEM,
/// which libsignal only accepts when built with its mlkem1024 feature.
/// </summary>
public enum KemKeyType : byte
{
    /// <summary>CRYSTALS-Kyber-1024 (round 3), libsignal type 0x08.</summary>
    Kyber1024 = 0x08,

    /// <summary>ML-KEM-1024 (FIPS 203), libsignal type 0x0A.</summary>
    MlKem1024 = 0x0A,
}
