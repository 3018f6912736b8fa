using Parley.Crypto.Keys;

namespace Parley.Crypto.Sessions;

/// <summary>
/// What an initiator repeats in every PreKey message until the first reply arrives: the prekeys it used,
/// its base key, when the session was made (Unix seconds) and, for PQXDH, the Kyber prekey id and ciphertext.
/// </summary>
internal sealed record PendingPreKey(
    uint? PreKeyId,
    uint SignedPreKeyId,
    EcPublicKey BaseKey,
    ulong TimestampSeconds,
    uint? KyberPreKeyId,
    byte[]? KyberCiphertext);
