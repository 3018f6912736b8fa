using System.Security.Cryptography;
using System.Text;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Fingerprints;

/// <summary>
/// Computes safety numbers exactly as libsignal does: per party, SHA-512 iterated over
/// version ‖ identity key ‖ stable identifier, then 30 digits from the first 30 bytes of each hash,
/// and a scannable form from the first 32 bytes of each.
/// </summary>
public sealed class FingerprintGenerator
{
    /// <summary>The iteration count Signal clients use.</summary>
    public const int DefaultIterations = 5200;

    /// <summary>The scannable-format version Signal clients use (1 was the phone-number era).</summary>
    public const int CurrentVersion = 2;

    private const int HashLength = 64;
    private readonly int _iterations;

    /// <summary>Creates a generator; <paramref name="iterations"/> must be in 2..1,000,000 as in libsignal.</summary>
    public FingerprintGenerator(int iterations = DefaultIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, 1_000_000);
        _iterations = iterations;
    }

    /// <summary>
    /// Computes the fingerprint that the local party shows for a conversation with the remote one.
    /// Both parties get the same displayable number; each one's scannable form matches the other's.
    /// </summary>
    /// <param name="version">Scannable format version, usually <see cref="CurrentVersion"/>.</param>
    /// <param name="localStableId">Stable identifier bytes of the local user (e.g. UTF-8 user name).</param>
    /// <param name="localIdentityKey">Serialized local identity public key (0x05 ‖ 32 bytes).</param>
    /// <param name="remoteStableId">Stable identifier bytes of the remote user.</param>
    /// <param name="remoteIdentityKey">Serialized remote identity public key.</param>
    public Fingerprint Create(
        int version,
        ReadOnlySpan<byte> localStableId,
        ReadOnlySpan<byte> localIdentityKey,
        ReadOnlySpan<byte> remoteStableId,
        ReadOnlySpan<byte> remoteIdentityKey)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        byte[] local = Hash(localStableId, localIdentityKey);
        byte[] remote = Hash(remoteStableId, remoteIdentityKey);
        return new Fingerprint(
            new DisplayableFingerprint(local, remote),
            new ScannableFingerprint(version, local.AsSpan(0, ScannableFingerprint.FingerprintLength), remote.AsSpan(0, ScannableFingerprint.FingerprintLength)));
    }

    /// <summary>
    /// Computes the fingerprint for two identity keys; same result as the byte overload with
    /// the keys serialized.
    /// </summary>
    public Fingerprint Create(int version, ReadOnlySpan<byte> localStableId, IdentityKey localIdentityKey, ReadOnlySpan<byte> remoteStableId, IdentityKey remoteIdentityKey)
    {
        ArgumentNullException.ThrowIfNull(localIdentityKey);
        ArgumentNullException.ThrowIfNull(remoteIdentityKey);
        return Create(version, localStableId, localIdentityKey.Serialize(), remoteStableId, remoteIdentityKey.Serialize());
    }

    /// <summary>
    /// The safety number Parley shows for a conversation between two users: the stable
    /// identifiers are the UTF-8 user names, the version <see cref="CurrentVersion"/>.
    /// </summary>
    public Fingerprint Create(string localUser, IdentityKey localIdentityKey, string remoteUser, IdentityKey remoteIdentityKey)
    {
        ArgumentNullException.ThrowIfNull(localUser);
        ArgumentNullException.ThrowIfNull(remoteUser);
        return Create(CurrentVersion, Encoding.UTF8.GetBytes(localUser), localIdentityKey, Encoding.UTF8.GetBytes(remoteUser), remoteIdentityKey);
    }

    private byte[] Hash(ReadOnlySpan<byte> stableId, ReadOnlySpan<byte> identityKey)
    {
        // Round 0 hashes 0x0000 ‖ key ‖ id ‖ key; every later round hashes previous ‖ key.
        byte[] first = new byte[2 + identityKey.Length + stableId.Length + identityKey.Length];
        identityKey.CopyTo(first.AsSpan(2));
        stableId.CopyTo(first.AsSpan(2 + identityKey.Length));
        identityKey.CopyTo(first.AsSpan(2 + identityKey.Length + stableId.Length));

        byte[] round = new byte[HashLength + identityKey.Length];
        identityKey.CopyTo(round.AsSpan(HashLength));
        // One reused hash object: 10,400 short hashes per fingerprint make per-call setup the main cost.
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        sha512.AppendData(first);
        sha512.GetHashAndReset(round);
        for (int i = 1; i < _iterations; i++)
        {
            sha512.AppendData(round);
            sha512.GetHashAndReset(round.AsSpan(0, HashLength));
        }

        return round[..HashLength];
    }
}
