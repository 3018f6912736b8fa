using Google.Protobuf;
using Parley.Client.Storage;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Protocol;

namespace Parley.Client.Encryption;

/// <summary>
/// Makes this device's key uploads: private halves are stored locally (committed before the upload
/// is sent, so a key the server hands out can always be used), public halves go in
/// <see cref="UploadPreKeys"/>. The counts follow the server's limits (docs/protocol.md, "Prekeys").
/// </summary>
internal static class PreKeyRefill
{
    /// <summary>One-time EC prekeys per batch: the server's per-upload maximum.</summary>
    public const int EcBatch = 100;

    /// <summary>
    /// Parley devices publish FIPS 203 ML-KEM-1024 prekeys. (Parley.Crypto also speaks libsignal's
    /// deployed Kyber1024, type 0x08, which the interop suite uses against libsignal.)
    /// </summary>
    public const KemKeyType PostQuantumKem = KemKeyType.MlKem1024;

    /// <summary>One-time ML-KEM prekeys per batch: each is 1.6 KB public + 3 KB private, and the last-resort key covers any gap.</summary>
    public const int KyberBatch = 40;

    /// <summary>The server keeps at most this many one-time prekeys of each kind.</summary>
    public const int MaxStored = 200;

    /// <summary>The server asks for more below this many.</summary>
    public const int LowThreshold = 10;

    /// <summary>
    /// Previous signed and last-resort prekeys are kept this long after rotation, so PreKey messages
    /// made from a bundle fetched before it still decrypt (an unanswered session lives 30 days).
    /// </summary>
    public static readonly TimeSpan KeepPrevious = TimeSpan.FromDays(30);

    /// <summary>Creates this device's identity (device 1) or adopts the account's (a linked device), once.</summary>
    public static void EnsureIdentity(IClientStore store, IdentityKeyPair? accountIdentity)
    {
        if (!store.HasIdentity())
        {
            store.SaveOwnIdentity(accountIdentity ?? IdentityKeyPair.Generate(), RegistrationId.Generate());
        }
    }

    /// <summary>
    /// Builds the upload for what the server reported (<paramref name="low"/>; null = first upload):
    /// identity and registration id always; a new signed prekey and last-resort Kyber key when there
    /// is none or rotation is due; one-time keys of each kind up to a full batch when low.
    /// </summary>
    public static UploadPreKeys Build(IClientStore store, PreKeysLow? low, DateTimeOffset now)
    {
        var identity = store.GetIdentityKeyPair();
        var nowMs = now.ToUnixTimeMilliseconds();
        var forgetBefore = (now - KeepPrevious).ToUnixTimeMilliseconds();
        var upload = new UploadPreKeys
        {
            IdentityKey = ByteString.CopyFrom(identity.IdentityKey.Serialize()),
            RegistrationId = store.GetLocalRegistrationId(),
        };

        // Only a rotation sends the signed prekey: re-sending the current one would reset the server's rotation clock.
        var rotate = low is null || low.RotateSignedPrekey || store.NewestSignedPreKeyId() is null;
        if (rotate)
        {
            var signed = SignedPreKeyRecord.Generate(store.NextKeyId("signed", 1), identity, now);
            store.AddSignedPreKey(signed, nowMs, forgetBefore);
            upload.SignedPrekey = new SignedPreKey
            {
                Id = signed.Id,
                PublicKey = ByteString.CopyFrom(signed.KeyPair.PublicKey.Serialize()),
                Signature = ByteString.CopyFrom(signed.Signature),
            };
        }
        if (rotate || !store.HasKyberLastResort())
        {
            var lastResort = KyberPreKeyRecord.Generate(store.NextKeyId("kyber", 1), identity, now, PostQuantumKem);
            store.AddKyberPreKeys([lastResort], lastResort: true, nowMs, forgetBefore);
            upload.KyberLastResort = ToWire(lastResort);
        }

        var ecRemaining = (int)(low?.Remaining ?? 0);
        if (low is null || ecRemaining < LowThreshold)
        {
            var count = Math.Min(EcBatch, MaxStored - ecRemaining);
            var first = store.NextKeyId("prekey", (uint)count);
            var keys = new List<PreKeyRecord>(count);
            for (var i = 0; i < count; i++)
            {
                keys.Add(PreKeyRecord.Generate((uint)((first - 1 + i) % 0xFFFFFF) + 1));
            }
            store.AddPreKeys(keys);
            upload.OneTimePrekeys.AddRange(keys.Select(k => new PreKey { Id = k.Id, PublicKey = ByteString.CopyFrom(k.KeyPair.PublicKey.Serialize()) }));
        }

        var kyberRemaining = (int)(low?.KyberRemaining ?? 0);
        if (low is null || kyberRemaining < LowThreshold)
        {
            var count = Math.Min(KyberBatch, MaxStored - kyberRemaining);
            var first = store.NextKeyId("kyber", (uint)count);
            var keys = new List<KyberPreKeyRecord>(count);
            for (var i = 0; i < count; i++)
            {
                keys.Add(KyberPreKeyRecord.Generate((uint)((first - 1 + i) % 0xFFFFFF) + 1, identity, now, PostQuantumKem));
            }
            store.AddKyberPreKeys(keys, lastResort: false, nowMs);
            upload.KyberPrekeys.AddRange(keys.Select(ToWire));
        }
        return upload;
    }

    /// <summary>Whether a PreKeysLow report asks for anything.</summary>
    public static bool AsksForKeys(PreKeysLow low) =>
        low.RotateSignedPrekey || low.Remaining < LowThreshold || low.KyberRemaining < LowThreshold;

    /// <summary>
    /// A report that arrived while <paramref name="justSent"/> was being uploaded may predate it: the
    /// kinds that upload refilled (or rotated) are taken as done, so the store limit is never overshot.
    /// </summary>
    public static PreKeysLow WithoutWhatWasSent(PreKeysLow low, UploadPreKeys? justSent)
    {
        var rest = low.Clone();
        if (justSent is null)
        {
            return rest;
        }
        if (justSent.OneTimePrekeys.Count > 0)
        {
            rest.Remaining = Math.Max(rest.Remaining, LowThreshold);
        }
        if (justSent.KyberPrekeys.Count > 0)
        {
            rest.KyberRemaining = Math.Max(rest.KyberRemaining, LowThreshold);
        }
        if (justSent.SignedPrekey is not null)
        {
            rest.RotateSignedPrekey = false;
        }
        return rest;
    }

    private static SignedPreKey ToWire(KyberPreKeyRecord record) => new()
    {
        Id = record.Id,
        PublicKey = ByteString.CopyFrom(record.KeyPair.PublicKey.Serialize()),
        Signature = ByteString.CopyFrom(record.Signature),
    };
}
