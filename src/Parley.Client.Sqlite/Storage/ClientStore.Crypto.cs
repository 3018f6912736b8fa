using System.Collections.Concurrent;
using System.Globalization;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Client.Storage;

/// <summary>
/// The end-to-end encryption half of the store: this device's identity and prekeys, sessions per
/// remote device, the identities peers presented, and recently sent plaintexts for resends. It is
/// Parley.Crypto's <see cref="IProtocolStore"/>, on the same SQLite connection as the messages, so a
/// decrypt and the message it produced commit in one transaction (<see cref="Atomically{T}"/>).
/// Every device has its own identity key; a user's identity is the account key that signs the
/// user's device list (ClientStore.Devices.cs), and a change of that key is an identity change.
/// </summary>
internal sealed partial class ClientStore
{
    private readonly ConcurrentQueue<string> _identityChanges = new();

    private void CreateCryptoTables() => Execute("""
        CREATE TABLE IF NOT EXISTS prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS signed_prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS kyber_prekeys (
            id INTEGER PRIMARY KEY, record BLOB NOT NULL, last_resort INTEGER NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS sessions (user TEXT NOT NULL, device INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (user, device));
        CREATE TABLE IF NOT EXISTS device_identities (user TEXT NOT NULL, device INTEGER NOT NULL, key BLOB NOT NULL, PRIMARY KEY (user, device));
        CREATE TABLE IF NOT EXISTS peer_identities (user TEXT PRIMARY KEY, key BLOB NOT NULL, verified_key BLOB, changed INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS recent_sends (id BLOB PRIMARY KEY, peer TEXT NOT NULL, sent_at INTEGER NOT NULL, content BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS resends (id BLOB PRIMARY KEY, original BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS retry_requests (id BLOB PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS sent_devices (
            id BLOB NOT NULL, user TEXT NOT NULL, device INTEGER NOT NULL, identity BLOB NOT NULL, PRIMARY KEY (id, user, device));
        CREATE TABLE IF NOT EXISTS resend_targets (id BLOB PRIMARY KEY, user TEXT NOT NULL, device INTEGER NOT NULL, identity BLOB NOT NULL);
        """);

    /// <summary>
    /// Runs <paramref name="work"/> as one SQLite transaction on this store's connection (all or
    /// nothing). Inside it only statement-level methods may be used (crypto store methods,
    /// <see cref="InsertReceived"/>), not the ones that open their own transaction.
    /// </summary>
    public T Atomically<T>(Func<T> work)
    {
        lock (_gate)
        {
            // A raw BEGIN: the per-method commands run without a transaction object and still join it.
            Execute(null, "BEGIN IMMEDIATE");
            try
            {
                var result = work();
                Execute(null, "COMMIT");
                return result;
            }
            catch
            {
                Execute(null, "ROLLBACK");
                throw;
            }
        }
    }

    /// <summary>Users whose identity key changed since the last call (each change once).</summary>
    public IReadOnlyList<string> TakeIdentityChanges()
    {
        var list = new List<string>();
        while (_identityChanges.TryDequeue(out var user))
        {
            list.Add(user);
        }
        return list;
    }

    // ───────────── own identity and key counters ─────────────

    /// <summary>Whether this profile has an identity key pair yet.</summary>
    public bool HasIdentity()
    {
        lock (_gate)
        {
            return GetConfig("identity_key_pair") is not null;
        }
    }

    /// <summary>Saves this device's identity key pair and registration id (once, at registration or linking).</summary>
    public void SaveOwnIdentity(IdentityKeyPair identity, uint registrationId)
    {
        ArgumentNullException.ThrowIfNull(identity);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            SetConfig(tx, "identity_key_pair", Convert.ToBase64String(identity.Serialize()));
            SetConfig(tx, "registration_id", registrationId.ToString(CultureInfo.InvariantCulture));
            tx.Commit();
        }
    }

    /// <summary>Returns the next id of a key kind (wrapping within 1..0xFFFFFF, as Signal's ids do) and advances it.</summary>
    public uint NextKeyId(string kind, uint count)
    {
        lock (_gate)
        {
            var key = "next_id_" + kind;
            var next = GetConfig(key) is { } text ? uint.Parse(text, CultureInfo.InvariantCulture) : 1u;
            var after = (next + count - 1) % 0xFFFFFF + 1;
            Execute(null, "INSERT INTO config (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("$key", key), ("$value", after.ToString(CultureInfo.InvariantCulture)));
            return next;
        }
    }

    /// <summary>Creation time (unix ms) of the newest signed prekey, or null when there is none.</summary>
    public long? NewestSignedPreKeyTime()
    {
        lock (_gate)
        {
            return Scalar("SELECT MAX(created_at) FROM signed_prekeys") is long t ? t : null;
        }
    }

    /// <summary>The id of the newest signed prekey.</summary>
    public uint? NewestSignedPreKeyId()
    {
        lock (_gate)
        {
            return Scalar("SELECT id FROM signed_prekeys ORDER BY created_at DESC, id DESC LIMIT 1") is long id ? (uint)id : null;
        }
    }

    /// <summary>Stores a signed prekey with its creation time and forgets signed prekeys created before <paramref name="forgetBefore"/> (except the newest).</summary>
    public void AddSignedPreKey(SignedPreKeyRecord record, long createdAt, long forgetBefore)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "INSERT OR REPLACE INTO signed_prekeys (id, record, created_at) VALUES ($id, $record, $at)",
                ("$id", (long)record.Id), ("$record", record.Serialize()), ("$at", createdAt));
            Execute(tx, "DELETE FROM signed_prekeys WHERE created_at < $before AND id <> $id", ("$before", forgetBefore), ("$id", (long)record.Id));
            tx.Commit();
        }
    }

    /// <summary>Stores Kyber prekeys (one-time, or one last-resort key) in one transaction; old last-resort keys before <paramref name="forgetBefore"/> go.</summary>
    public void AddKyberPreKeys(IEnumerable<KyberPreKeyRecord> records, bool lastResort, long createdAt, long forgetBefore = 0)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            uint? newest = null;
            foreach (var record in records)
            {
                Execute(tx, "INSERT OR REPLACE INTO kyber_prekeys (id, record, last_resort, created_at) VALUES ($id, $record, $lr, $at)",
                    ("$id", (long)record.Id), ("$record", record.Serialize()), ("$lr", lastResort ? 1 : 0), ("$at", createdAt));
                newest = record.Id;
            }
            if (lastResort && newest is { } keep)
            {
                Execute(tx, "DELETE FROM kyber_prekeys WHERE last_resort = 1 AND created_at < $before AND id <> $id",
                    ("$before", forgetBefore), ("$id", (long)keep));
            }
            tx.Commit();
        }
    }

    /// <summary>Whether a last-resort Kyber prekey exists.</summary>
    public bool HasKyberLastResort()
    {
        lock (_gate)
        {
            return Scalar("SELECT COUNT(*) FROM kyber_prekeys WHERE last_resort = 1") is long n && n > 0;
        }
    }

    /// <summary>Stores one-time EC prekeys in one transaction.</summary>
    public void AddPreKeys(IEnumerable<PreKeyRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            foreach (var record in records)
            {
                Execute(tx, "INSERT OR REPLACE INTO prekeys (id, record) VALUES ($id, $record)", ("$id", (long)record.Id), ("$record", record.Serialize()));
            }
            tx.Commit();
        }
    }

    // ───────────── peer identities (verification) ─────────────

    /// <summary>The identity key known for <paramref name="user"/> (the account's key), or null.</summary>
    public IdentityKey? PeerIdentity(string user)
    {
        lock (_gate)
        {
            return Scalar("SELECT key FROM peer_identities WHERE user = $user", ("$user", user)) is byte[] key ? IdentityKey.Deserialize(key) : null;
        }
    }

    /// <summary>True when the user was verified and the known key is not the verified one (sends are refused until accepted).</summary>
    public bool IsBlockedByVerification(string user)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT key, verified_key FROM peer_identities WHERE user = $user";
            cmd.Parameters.AddWithValue("$user", user);
            using var r = cmd.ExecuteReader();
            return r.Read() && !r.IsDBNull(1) && !((byte[])r[0]).AsSpan().SequenceEqual((byte[])r[1]);
        }
    }

    /// <summary>Whether <paramref name="user"/> is marked verified with the key now known for them.</summary>
    public bool IsVerified(string user)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT key, verified_key FROM peer_identities WHERE user = $user";
            cmd.Parameters.AddWithValue("$user", user);
            using var r = cmd.ExecuteReader();
            return r.Read() && !r.IsDBNull(1) && ((byte[])r[0]).AsSpan().SequenceEqual((byte[])r[1]);
        }
    }

    /// <summary>Marks the key now known for <paramref name="user"/> verified; false when no key is known.</summary>
    public bool MarkVerified(string user)
    {
        lock (_gate)
        {
            return Execute(null, "UPDATE peer_identities SET verified_key = key, changed = 0 WHERE user = $user", ("$user", user)) > 0;
        }
    }

    /// <summary>Accepts the key now known for <paramref name="user"/>: sends resume; the user is no longer marked verified.</summary>
    public bool AcceptIdentity(string user)
    {
        lock (_gate)
        {
            return Execute(null, "UPDATE peer_identities SET verified_key = NULL, changed = 0 WHERE user = $user", ("$user", user)) > 0;
        }
    }

    /// <summary>Whether the user's key changed and the change has not been accepted or verified since.</summary>
    public bool IdentityChangedUnacknowledged(string user)
    {
        lock (_gate)
        {
            return Scalar("SELECT changed FROM peer_identities WHERE user = $user", ("$user", user)) is long n && n != 0;
        }
    }

    // ───────────── recent sends (for retry requests) ─────────────

    /// <summary>
    /// Remembers a sent plaintext for resends, with the devices it went to and the identity key each
    /// had; keeps at most <paramref name="keep"/> entries newer than <paramref name="forgetBefore"/>.
    /// </summary>
    public void RememberSent(byte[] id, string peer, long sentAt, byte[] content, IReadOnlyList<(string User, uint Device, byte[] Identity)> devices,
        long forgetBefore, int keep)
    {
        ArgumentNullException.ThrowIfNull(devices);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "INSERT OR IGNORE INTO recent_sends (id, peer, sent_at, content) VALUES ($id, $peer, $at, $content)",
                ("$id", id), ("$peer", peer), ("$at", sentAt), ("$content", content));
            foreach (var (user, device, identity) in devices)
            {
                Execute(tx, "INSERT OR IGNORE INTO sent_devices (id, user, device, identity) VALUES ($id, $user, $device, $identity)",
                    ("$id", id), ("$user", user), ("$device", (long)device), ("$identity", identity));
            }
            Execute(tx, "DELETE FROM recent_sends WHERE sent_at < $before", ("$before", forgetBefore));
            Execute(tx, "DELETE FROM recent_sends WHERE id NOT IN (SELECT id FROM recent_sends ORDER BY sent_at DESC LIMIT $keep)", ("$keep", keep));
            Execute(tx, "DELETE FROM sent_devices WHERE id NOT IN (SELECT id FROM recent_sends)");
            tx.Commit();
        }
    }

    /// <summary>A recently sent message of this device (peer, sent_at, content), or null when unknown or forgotten.</summary>
    public (string Peer, long SentAt, byte[] Content)? FindSent(byte[] id)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT peer, sent_at, content FROM recent_sends WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", id);
            using var r = cmd.ExecuteReader();
            return r.Read() ? (r.GetString(0), r.GetInt64(1), (byte[])r[2]) : null;
        }
    }

    /// <summary>The identity key a remembered message went to on this device of <paramref name="user"/>; null when it did not go there.</summary>
    public byte[]? SentIdentity(byte[] id, string user, uint device)
    {
        lock (_gate)
        {
            return Scalar("SELECT identity FROM sent_devices WHERE id = $id AND user = $user AND device = $device",
                ("$id", id), ("$user", user), ("$device", (long)device)) as byte[];
        }
    }

    /// <summary>
    /// Queues a resend of <paramref name="original"/> under the fresh envelope id <paramref name="id"/> (the original id
    /// travels inside the ciphertext), for one device and only while it still has <paramref name="identity"/>.
    /// </summary>
    public void AddResend(byte[] id, byte[] original, string peer, long sentAt, byte[] content, string user, uint device, byte[] identity)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "INSERT OR IGNORE INTO resends (id, original) VALUES ($id, $original)", ("$id", id), ("$original", original));
            Execute(tx, "INSERT OR IGNORE INTO resend_targets (id, user, device, identity) VALUES ($id, $user, $device, $identity)",
                ("$id", id), ("$user", user), ("$device", (long)device), ("$identity", identity));
            Execute(tx, "INSERT OR IGNORE INTO outbox (id, peer, sent_at, content) VALUES ($id, $peer, $sent_at, $content)",
                ("$id", id), ("$peer", peer), ("$sent_at", sentAt), ("$content", content));
            tx.Commit();
        }
    }

    /// <summary>For a queued resend: the one device it goes to and the identity key that device must still have; else null.</summary>
    public (string User, uint Device, byte[] Identity)? ResendTarget(byte[] id)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT user, device, identity FROM resend_targets WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", id);
            using var r = cmd.ExecuteReader();
            return r.Read() ? (r.GetString(0), (uint)r.GetInt64(1), (byte[])r[2]) : null;
        }
    }

    /// <summary>For an outbox id that is a resend: the original message id; else null.</summary>
    public byte[]? ResendOriginal(byte[] id)
    {
        lock (_gate)
        {
            return Scalar("SELECT original FROM resends WHERE id = $id", ("$id", id)) as byte[];
        }
    }

    /// <summary>Queues a retry request for <paramref name="id"/> (a message of <paramref name="peer"/> that could not be decrypted) in the outbox.</summary>
    public void AddRetryRequest(byte[] id, string peer, long sentAt)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "INSERT OR IGNORE INTO retry_requests (id) VALUES ($id)", ("$id", id));
            Execute(tx, "INSERT OR IGNORE INTO outbox (id, peer, sent_at, content) VALUES ($id, $peer, $sent_at, $content)",
                ("$id", id), ("$peer", peer), ("$sent_at", sentAt), ("$content", Array.Empty<byte>()));
            tx.Commit();
        }
    }

    /// <summary>Whether an outbox id is a retry request.</summary>
    public bool IsRetryRequest(byte[] id)
    {
        lock (_gate)
        {
            return Scalar("SELECT 1 FROM retry_requests WHERE id = $id", ("$id", id)) is not null;
        }
    }

    // ───────────── IIdentityKeyStore ─────────────

    /// <inheritdoc />
    public IdentityKeyPair GetIdentityKeyPair()
    {
        lock (_gate)
        {
            var text = GetConfig("identity_key_pair") ?? throw new InvalidOperationException("This profile has no identity key yet.");
            return IdentityKeyPair.Deserialize(Convert.FromBase64String(text));
        }
    }

    /// <inheritdoc />
    public uint GetLocalRegistrationId()
    {
        lock (_gate)
        {
            var text = GetConfig("registration_id") ?? throw new InvalidOperationException("This profile has no registration id yet.");
            return uint.Parse(text, CultureInfo.InvariantCulture);
        }
    }

    /// <inheritdoc />
    public bool SaveIdentity(ProtocolAddress address, IdentityKey identityKey)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(identityKey);
        var key = identityKey.Serialize();
        lock (_gate)
        {
            var old = Scalar("SELECT key FROM device_identities WHERE user = $user AND device = $device",
                ("$user", address.Name), ("$device", (long)address.DeviceId)) as byte[];
            if (old is null || !old.AsSpan().SequenceEqual(key))
            {
                Execute(null, """
                    INSERT INTO device_identities (user, device, key) VALUES ($user, $device, $key)
                    ON CONFLICT (user, device) DO UPDATE SET key = excluded.key
                    """, ("$user", address.Name), ("$device", (long)address.DeviceId), ("$key", key));
            }
            // Device keys differ per device; the user's identity is the account key of its signed list (TrustList).
            return old is not null && !old.AsSpan().SequenceEqual(key);
        }
    }

    /// <inheritdoc />
    public bool IsTrustedIdentity(ProtocolAddress address, IdentityKey identityKey, Direction direction)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(identityKey);
        if (direction == Direction.Receiving)
        {
            // Incoming messages are always read (the change is announced); only sending to a changed, verified peer stops.
            return true;
        }
        if (IsBlockedByVerification(address.Name))
        {
            return false;
        }
        // Only a device the account's signed list names, with the key it names, is sent to.
        return TrustedList(address.Name) is not { } list
            || list.Devices.Any(d => d.DeviceId == address.DeviceId && d.IdentityKey.Span.SequenceEqual(identityKey.Serialize()));
    }

    /// <inheritdoc />
    public IdentityKey? GetIdentity(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            return Scalar("SELECT key FROM device_identities WHERE user = $user AND device = $device",
                ("$user", address.Name), ("$device", (long)address.DeviceId)) is byte[] key ? IdentityKey.Deserialize(key) : null;
        }
    }

    // ───────────── IPreKeyStore ─────────────

    /// <inheritdoc />
    public PreKeyRecord? LoadPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT record FROM prekeys WHERE id = $id", ("$id", (long)preKeyId)) is byte[] r ? PreKeyRecord.Deserialize(r) : null;
        }
    }

    /// <inheritdoc />
    public void StorePreKey(uint preKeyId, PreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Execute(null, "INSERT OR REPLACE INTO prekeys (id, record) VALUES ($id, $record)", ("$id", (long)preKeyId), ("$record", record.Serialize()));
        }
    }

    /// <inheritdoc />
    public bool ContainsPreKey(uint preKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT 1 FROM prekeys WHERE id = $id", ("$id", (long)preKeyId)) is not null;
        }
    }

    /// <inheritdoc />
    public void RemovePreKey(uint preKeyId)
    {
        lock (_gate)
        {
            Execute(null, "DELETE FROM prekeys WHERE id = $id", ("$id", (long)preKeyId));
        }
    }

    // ───────────── ISignedPreKeyStore ─────────────

    /// <inheritdoc />
    public SignedPreKeyRecord? LoadSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT record FROM signed_prekeys WHERE id = $id", ("$id", (long)signedPreKeyId)) is byte[] r ? SignedPreKeyRecord.Deserialize(r) : null;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SignedPreKeyRecord> LoadSignedPreKeys()
    {
        lock (_gate)
        {
            return [.. Blobs("SELECT record FROM signed_prekeys ORDER BY id").Select(b => SignedPreKeyRecord.Deserialize(b))];
        }
    }

    /// <inheritdoc />
    public void StoreSignedPreKey(uint signedPreKeyId, SignedPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Execute(null, "INSERT OR REPLACE INTO signed_prekeys (id, record, created_at) VALUES ($id, $record, $at)",
                ("$id", (long)signedPreKeyId), ("$record", record.Serialize()), ("$at", (long)record.TimestampMilliseconds));
        }
    }

    /// <inheritdoc />
    public bool ContainsSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT 1 FROM signed_prekeys WHERE id = $id", ("$id", (long)signedPreKeyId)) is not null;
        }
    }

    /// <inheritdoc />
    public void RemoveSignedPreKey(uint signedPreKeyId)
    {
        lock (_gate)
        {
            Execute(null, "DELETE FROM signed_prekeys WHERE id = $id", ("$id", (long)signedPreKeyId));
        }
    }

    // ───────────── IKyberPreKeyStore ─────────────

    /// <inheritdoc />
    public KyberPreKeyRecord? LoadKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT record FROM kyber_prekeys WHERE id = $id", ("$id", (long)kyberPreKeyId)) is byte[] r ? KyberPreKeyRecord.Deserialize(r) : null;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<KyberPreKeyRecord> LoadKyberPreKeys()
    {
        lock (_gate)
        {
            return [.. Blobs("SELECT record FROM kyber_prekeys ORDER BY id").Select(b => KyberPreKeyRecord.Deserialize(b))];
        }
    }

    /// <inheritdoc />
    public void StoreKyberPreKey(uint kyberPreKeyId, KyberPreKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Execute(null, "INSERT OR REPLACE INTO kyber_prekeys (id, record, last_resort, created_at) VALUES ($id, $record, 0, $at)",
                ("$id", (long)kyberPreKeyId), ("$record", record.Serialize()), ("$at", (long)record.TimestampMilliseconds));
        }
    }

    /// <inheritdoc />
    public bool ContainsKyberPreKey(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            return Scalar("SELECT 1 FROM kyber_prekeys WHERE id = $id", ("$id", (long)kyberPreKeyId)) is not null;
        }
    }

    /// <inheritdoc />
    public void MarkKyberPreKeyUsed(uint kyberPreKeyId)
    {
        lock (_gate)
        {
            // One-time keys go; the last-resort key stays until it is rotated.
            Execute(null, "DELETE FROM kyber_prekeys WHERE id = $id AND last_resort = 0", ("$id", (long)kyberPreKeyId));
        }
    }

    // ───────────── ISessionStore ─────────────

    /// <inheritdoc />
    public SessionRecord? LoadSession(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            return Scalar("SELECT record FROM sessions WHERE user = $user AND device = $device",
                ("$user", address.Name), ("$device", (long)address.DeviceId)) is byte[] r ? SessionRecord.Deserialize(r) : null;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<uint> GetSubDeviceSessions(string name)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT device FROM sessions WHERE user = $user AND device <> 1 ORDER BY device";
            cmd.Parameters.AddWithValue("$user", name);
            using var r = cmd.ExecuteReader();
            var list = new List<uint>();
            while (r.Read())
            {
                list.Add((uint)r.GetInt64(0));
            }
            return list;
        }
    }

    /// <inheritdoc />
    public void StoreSession(ProtocolAddress address, SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Execute(null, """
                INSERT INTO sessions (user, device, record) VALUES ($user, $device, $record)
                ON CONFLICT (user, device) DO UPDATE SET record = excluded.record
                """, ("$user", address.Name), ("$device", (long)address.DeviceId), ("$record", record.Serialize()));
        }
    }

    /// <inheritdoc />
    public bool ContainsSession(ProtocolAddress address) => LoadSession(address) is { HasCurrentState: true };

    /// <inheritdoc />
    public void DeleteSession(ProtocolAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            Execute(null, "DELETE FROM sessions WHERE user = $user AND device = $device", ("$user", address.Name), ("$device", (long)address.DeviceId));
        }
    }

    /// <inheritdoc />
    public void DeleteAllSessions(string name)
    {
        lock (_gate)
        {
            Execute(null, "DELETE FROM sessions WHERE user = $user", ("$user", name));
        }
    }

    private List<byte[]> Blobs(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<byte[]>();
        while (r.Read())
        {
            list.Add((byte[])r[0]);
        }
        return list;
    }
}
