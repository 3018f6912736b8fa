using System.Threading.RateLimiting;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Limits;
using Parley.Server.Messaging;

namespace Parley.Server.Keys;

/// <summary>
/// The prekey directory: devices upload public keys (checked: sizes, counts, signatures by the
/// identity key), others fetch one bundle per device, each fetch consuming a one-time prekey.
/// Fetches are limited per requesting account and per (requesting device, target device), and the
/// one-time prekeys a target device hands out are limited per hour whoever asks: past that budget
/// the bundle comes without one-time keys (signed prekey and last-resort ML-KEM key), so no set of
/// accounts can drain a device faster than it refills. Uploads are limited per device: checking
/// one verifies up to 202 signatures (about 30 ms of CPU), so a flood of them would take the server's cores.
/// </summary>
public sealed class PreKeyService : IDisposable
{
    /// <summary>0x05 ‖ 32 bytes.</summary>
    public const int EcKeyBytes = 33;

    /// <summary>Type byte ‖ 1568 bytes (ML-KEM-1024 / Kyber1024 public key).</summary>
    public const int KyberKeyBytes = 1569;

    private readonly LimitMetrics _metrics;

    public const int SignatureBytes = 64;

    private readonly IDeviceKeyStore _store;
    private readonly AccountDirectory _directory;
    private readonly LimitOptions _limits;
    private readonly TimeProvider _time;
    private readonly PartitionedRateLimiter<long> _fetches;
    private readonly TokenBuckets<(long Requester, long Target)> _pairFetches;
    private readonly TokenBuckets<long> _oneTimeBudget;
    private readonly TokenBuckets<long> _uploads;

    public PreKeyService(IDeviceKeyStore store, AccountDirectory directory, LimitMetrics metrics, IOptions<ParleyOptions> options, TimeProvider time)
    {
        _metrics = metrics;
        _store = store;
        _directory = directory;
        _limits = options.Value.Limits;
        _time = time;
        _fetches = PartitionedRateLimiter.Create<long, long>(account => RateLimitPartition.GetTokenBucketLimiter(account, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _limits.BundleFetchesPerMinute,
            TokensPerPeriod = _limits.BundleFetchesPerMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _pairFetches = new(_limits.PreKeyFetchesPerDevicePairPerHour / 3600.0, _limits.PreKeyFetchesPerDevicePairPerHour, time);
        _oneTimeBudget = new(_limits.OneTimePreKeysPerDevicePerHour / 3600.0, _limits.OneTimePreKeyBurst, time);
        _uploads = new(_limits.PreKeyUploadsPerDevicePerHour / 3600.0, _limits.PreKeyUploadBurst, time);
    }

    /// <summary>Checks and stores an upload; an Error frame says what was wrong.</summary>
    public ServerFrame Upload(Account account, uint deviceId, UploadPreKeys upload)
    {
        long deviceKey = new DeviceAddress(account.Id, deviceId).Key;
        // Every upload counts, refused ones too: a refused one has cost its signature checks all the same.
        if (!_uploads.TryTake(deviceKey, out var wait))
        {
            return MessageRouter.RateLimited("too many prekey uploads from this device", wait);
        }
        if (upload.OneTimePrekeys.Count > _limits.MaxPreKeysPerUpload || upload.KyberPrekeys.Count > _limits.MaxPreKeysPerUpload)
        {
            return MessageRouter.Fail(ErrorCode.TooLarge, $"at most {_limits.MaxPreKeysPerUpload} one-time prekeys of each kind per upload");
        }
        // Before any signature is checked: a device at the cap costs no verification.
        var stored = _store.Count(deviceKey);
        if (stored.Ec + upload.OneTimePrekeys.Count > _limits.MaxStoredPreKeys || stored.Kyber + upload.KyberPrekeys.Count > _limits.MaxStoredPreKeys)
        {
            return MessageRouter.Fail(ErrorCode.TooLarge, $"at most {_limits.MaxStoredPreKeys} one-time prekeys of each kind are kept");
        }
        var current = _store.Get(deviceKey);

        byte[] identityBytes;
        if (upload.IdentityKey.IsEmpty)
        {
            if (current is null)
            {
                return MessageRouter.Fail(ErrorCode.BadRequest, "the first upload must carry the identity key");
            }
            identityBytes = current.IdentityKey;
        }
        else
        {
            identityBytes = upload.IdentityKey.ToByteArray();
            if (current is not null && !current.IdentityKey.AsSpan().SequenceEqual(identityBytes))
            {
                return MessageRouter.Fail(ErrorCode.BadRequest, "a device's identity key cannot change; register the device again");
            }
        }
        EcPublicKey identity;
        try
        {
            identity = EcPublicKey.Deserialize(identityBytes);
        }
        catch (CryptoException)
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, "identity_key must be a Curve25519 key (0x05 ‖ 32 bytes)");
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var signed = current?.SignedPreKey;
        if (upload.SignedPrekey is { } sp)
        {
            if (Check(identity, sp, EcKeyBytes, "signed_prekey") is { } bad)
            {
                return bad;
            }
            signed = new StoredSignedKey(sp.Id, sp.PublicKey.ToByteArray(), sp.Signature.ToByteArray(), now);
        }
        var lastResort = current?.KyberLastResort;
        if (upload.KyberLastResort is { } lr)
        {
            if (Check(identity, lr, KyberKeyBytes, "kyber_last_resort") is { } bad)
            {
                return bad;
            }
            lastResort = new StoredSignedKey(lr.Id, lr.PublicKey.ToByteArray(), lr.Signature.ToByteArray(), now);
        }
        if (signed is null)
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, "a signed prekey is required");
        }

        var ec = new List<StoredSignedKey>();
        foreach (var k in upload.OneTimePrekeys)
        {
            if (k.PublicKey.Length != EcKeyBytes || k.PublicKey[0] != EcPublicKey.DjbType)
            {
                return MessageRouter.Fail(ErrorCode.BadRequest, "one-time prekeys must be Curve25519 keys (0x05 ‖ 32 bytes)");
            }
            ec.Add(new StoredSignedKey(k.Id, k.PublicKey.ToByteArray(), []));
        }
        var kyber = new List<StoredSignedKey>();
        foreach (var k in upload.KyberPrekeys)
        {
            if (Check(identity, k, KyberKeyBytes, "kyber_prekeys") is { } bad)
            {
                return bad;
            }
            kyber.Add(new StoredSignedKey(k.Id, k.PublicKey.ToByteArray(), k.Signature.ToByteArray()));
        }
        _store.Save(deviceKey, new StoredDeviceKeys(identityBytes, upload.RegistrationId == 0 && current is not null ? current.RegistrationId : upload.RegistrationId, signed, lastResort), ec, kyber);
        return new ServerFrame { Ok = new Ok() };
    }

    /// <summary>
    /// One bundle per device of the user that has keys (or just the named device), consuming one
    /// one-time prekey of each kind. Devices that ran low are returned so the caller can tell them.
    /// </summary>
    public (ServerFrame Answer, List<(long DeviceKey, PreKeysLow Low)> RanLow) Fetch(Account requester, uint requesterDevice, GetPreKeyBundles request)
    {
        var ranLow = new List<(long, PreKeysLow)>();
        if (!UserName.IsValid(request.User) || _directory.Find(request.User) is not { } target)
        {
            return (MessageRouter.Fail(ErrorCode.UnknownUser, "no such user"), ranLow);
        }
        using var lease = _fetches.AttemptAcquire(requester.Id);
        if (!lease.IsAcquired)
        {
            _metrics.Refused(LimitKind.PrekeyFetch);
            var error = new Error { Code = ErrorCode.RateLimited, Message = "too many prekey fetches; wait a minute", RetryAfterMs = 60_000 };
            if (lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
            {
                error.RetryAfterMs = (uint)Math.Max(1, retry.TotalMilliseconds);
            }
            return (new ServerFrame { Error = error }, ranLow);
        }

        long requesterKey = new DeviceAddress(requester.Id, requesterDevice).Key;
        var devices = target.Devices.Where(d => request.DeviceId == 0 || d.Id == request.DeviceId).Select(d => new DeviceAddress(target.Id, d.Id).Key).ToList();
        // Checked for every device before any is served, so a refused fetch consumes no one-time prekey.
        foreach (var deviceKey in devices)
        {
            if (!_pairFetches.HasToken((requesterKey, deviceKey)))
            {
                _pairFetches.TryTake((requesterKey, deviceKey), out var wait);
                return (MessageRouter.RateLimited($"too many fetches of {target.User}'s keys from this device", wait), ranLow);
            }
        }

        var bundles = new PreKeyBundles { Signed = target.DeviceList?.Signed };
        foreach (var deviceKey in devices)
        {
            _pairFetches.TryTake((requesterKey, deviceKey), out _);
            uint deviceId = (uint)(deviceKey & 0xFFFF);
            if (_store.Get(deviceKey) is not { SignedPreKey: { } signed } keys)
            {
                continue; // never uploaded keys: nobody can start a session with it yet
            }
            var bundle = new PreKeyBundle
            {
                User = target.User,
                DeviceId = deviceId,
                RegistrationId = keys.RegistrationId,
                IdentityKey = ByteString.CopyFrom(keys.IdentityKey),
                SignedPrekey = ToWire(signed),
            };
            // Past the device's budget: no one-time keys, whoever asks (the session is set up from
            // the signed prekey and the last-resort ML-KEM key, and ratchets to fresh keys at the first reply).
            bool oneTimeAllowed = _oneTimeBudget.TryTake(deviceKey, out _);
            if (oneTimeAllowed && _store.Take(deviceKey, PreKeyKind.Ec) is { } oneTime)
            {
                bundle.OneTimePrekey = new PreKey { Id = oneTime.Id, PublicKey = ByteString.CopyFrom(oneTime.PublicKey) };
            }
            if (((oneTimeAllowed ? _store.Take(deviceKey, PreKeyKind.Kyber) : null) ?? keys.KyberLastResort) is { } kyber)
            {
                bundle.KyberPrekey = ToWire(kyber);
            }
            bundles.Bundles.Add(bundle);
            if (LowFor(deviceKey, keys) is { } low)
            {
                ranLow.Add((deviceKey, low));
            }
        }
        return (new ServerFrame { PrekeyBundles = bundles }, ranLow);
    }

    /// <summary>What a device should be told about its keys now, or null when they are fine.</summary>
    public PreKeysLow? LowFor(long deviceKey, StoredDeviceKeys? keys = null)
    {
        keys ??= _store.Get(deviceKey);
        if (keys is null)
        {
            return new PreKeysLow { RotateSignedPrekey = true }; // never uploaded: it has nothing at all
        }
        var (ec, kyber) = _store.Count(deviceKey);
        bool rotate = keys.SignedPreKey is null ||
            _time.GetUtcNow().ToUnixTimeMilliseconds() - keys.SignedPreKey.UploadedAt > TimeSpan.FromDays(_limits.SignedPreKeyRotationDays).TotalMilliseconds;
        if (ec >= _limits.PreKeysLowThreshold && kyber >= _limits.PreKeysLowThreshold && !rotate)
        {
            return null;
        }
        return new PreKeysLow { Remaining = (uint)ec, KyberRemaining = (uint)kyber, RotateSignedPrekey = rotate };
    }

    public void Dispose() => _fetches.Dispose();

    private static ServerFrame? Check(EcPublicKey identity, SignedPreKey key, int length, string field)
    {
        if (key.PublicKey.Length != length || key.Signature.Length != SignatureBytes)
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, $"{field}: a {length}-byte public key with a {SignatureBytes}-byte signature");
        }
        if (!identity.VerifySignature(key.PublicKey.Span, key.Signature.Span))
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, $"{field}: the signature does not verify with the identity key");
        }
        return null;
    }

    private static SignedPreKey ToWire(StoredSignedKey key) =>
        new() { Id = key.Id, PublicKey = ByteString.CopyFrom(key.PublicKey), Signature = ByteString.CopyFrom(key.Signature) };
}
