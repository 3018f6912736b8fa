using System.Globalization;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Client.Storage;

/// <summary>
/// The device's local SQLite store: credentials, messages, the outbox of unsent sends, and cached
/// device lists. Every write is one transaction, so a crash leaves either all of it or none.
/// A message is keyed by (sender user, message id): a redelivered envelope inserts nothing.
/// Thread-safe: one connection, used under a lock.
/// </summary>
internal sealed partial class ClientStore : IClientStore, IStoreFaults
{
    /// <summary>The store's file name inside a profile folder.</summary>
    public const string FileName = "parley.db";

    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();

    private ClientStore(SqliteConnection db) => _db = db;

    /// <summary>Opens (creating when needed) the store in <paramref name="profileDir"/>.</summary>
    public static ClientStore Open(string profileDir)
    {
        Directory.CreateDirectory(profileDir);
        if (!OperatingSystem.IsWindows())
        {
            // The store holds the device secret: keep the folder private to its owner.
            File.SetUnixFileMode(profileDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var path = Path.Combine(profileDir, FileName);
        if (!OperatingSystem.IsWindows() && !File.Exists(path))
        {
            // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database file's mode.
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        db.Open();
        var store = new ClientStore(db);
        store.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA busy_timeout = 5000;
            CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS messages (
                local_order INTEGER PRIMARY KEY AUTOINCREMENT,
                id BLOB NOT NULL,
                sender TEXT NOT NULL,
                sender_device INTEGER NOT NULL,
                peer TEXT NOT NULL,
                direction INTEGER NOT NULL,
                text TEXT NOT NULL,
                sent_at INTEGER NOT NULL,
                status INTEGER NOT NULL,
                shown INTEGER NOT NULL DEFAULT 0,
                UNIQUE (sender, id));
            CREATE INDEX IF NOT EXISTS messages_by_id ON messages (id);
            CREATE INDEX IF NOT EXISTS messages_by_peer ON messages (peer, local_order);
            CREATE TABLE IF NOT EXISTS outbox (
                position INTEGER PRIMARY KEY AUTOINCREMENT,
                id BLOB NOT NULL UNIQUE,
                peer TEXT NOT NULL,
                sent_at INTEGER NOT NULL,
                content BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS devices (user TEXT PRIMARY KEY, ids TEXT NOT NULL);
            """);
        store.CreateCryptoTables();
        store.CreateMediaTables();
        store.CreateGroupTables();
        store.CreateDeviceTables();
        store.CreateHistoryTables();
        if (!OperatingSystem.IsWindows())
        {
            // Files from an older version (0644) are tightened too.
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                if (File.Exists(file))
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }
        return store;
    }

    // ───────────── credentials ─────────────

    /// <summary>The saved credentials, or null when this profile has not been registered or linked.</summary>
    public DeviceCredentialsProfile? LoadCredentials()
    {
        lock (_gate)
        {
            var server = GetConfig("server");
            var user = GetConfig("user");
            var device = GetConfig("device_id");
            var password = GetConfig("password");
            if (server is null || user is null || device is null || password is null)
            {
                return null;
            }
            return new DeviceCredentialsProfile(new Uri(server), user, uint.Parse(device, CultureInfo.InvariantCulture), password);
        }
    }

    /// <summary>Saves the credentials (replacing any earlier ones) in one transaction.</summary>
    public void SaveCredentials(DeviceCredentialsProfile credentials)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            SetConfig(tx, "server", credentials.Server.ToString());
            SetConfig(tx, "user", credentials.User);
            SetConfig(tx, "device_id", credentials.DeviceId.ToString(CultureInfo.InvariantCulture));
            SetConfig(tx, "password", credentials.Password);
            tx.Commit();
        }
    }

    // ───────────── outgoing ─────────────

    /// <summary>Stores a new outgoing message (Pending) and its outbox entry together.</summary>
    public void AddOutgoing(byte[] id, string peer, string sender, uint senderDevice, string text, long sentAt, byte[] content)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, """
                INSERT INTO messages (id, sender, sender_device, peer, direction, text, sent_at, status, shown)
                VALUES ($id, $sender, $device, $peer, 1, $text, $sent_at, 0, 1)
                """, ("$id", id), ("$sender", sender), ("$device", senderDevice), ("$peer", peer), ("$text", text), ("$sent_at", sentAt));
            Execute(tx, "INSERT INTO outbox (id, peer, sent_at, content) VALUES ($id, $peer, $sent_at, $content)",
                ("$id", id), ("$peer", peer), ("$sent_at", sentAt), ("$content", content));
            tx.Commit();
        }
    }

    /// <summary>The oldest unsent outbox entry, or null when the outbox is empty.</summary>
    public OutboxEntry? NextOutbox()
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT id, peer, sent_at, content FROM outbox ORDER BY position LIMIT 1";
            using var r = cmd.ExecuteReader();
            return r.Read() ? new OutboxEntry((byte[])r[0], r.GetString(1), r.GetInt64(2), (byte[])r[3]) : null;
        }
    }

    /// <summary>The ids of the outbox entries, oldest first.</summary>
    public IReadOnlyList<byte[]> OutboxIds()
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT id FROM outbox ORDER BY position";
            using var r = cmd.ExecuteReader();
            var ids = new List<byte[]>();
            while (r.Read())
            {
                ids.Add((byte[])r[0]);
            }
            return ids;
        }
    }

    /// <summary>True while <paramref name="id"/> waits in the outbox.</summary>
    public bool InOutbox(byte[] id)
    {
        lock (_gate)
        {
            return Scalar("SELECT 1 FROM outbox WHERE id = $id", ("$id", id)) is not null;
        }
    }

    /// <summary>Number of entries still in the outbox.</summary>
    public int OutboxCount()
    {
        lock (_gate)
        {
            return Convert.ToInt32(Scalar("SELECT COUNT(*) FROM outbox"), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// Records SENT: removes the outbox entry and moves the message to Sent unless it is already
    /// further along (a receipt can overtake the SendResult). True when the status changed.
    /// </summary>
    public bool CompleteOutbox(byte[] id, string sender)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "DELETE FROM outbox WHERE id = $id", ("$id", id));
            var changed = Execute(tx, "UPDATE messages SET status = 1 WHERE sender = $sender AND id = $id AND status = 0",
                ("$sender", sender), ("$id", id));
            tx.Commit();
            return changed > 0;
        }
    }

    /// <summary>Removes a send the server refused for good and marks its message Failed.</summary>
    public void FailOutbox(byte[] id, string sender)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "DELETE FROM outbox WHERE id = $id", ("$id", id));
            Execute(tx, "UPDATE messages SET status = $failed WHERE sender = $sender AND id = $id AND status = 0",
                ("$failed", (int)MessageStatus.Failed), ("$sender", sender), ("$id", id));
            tx.Commit();
        }
    }

    /// <summary>Puts an already-sent outgoing message back into the outbox (used to exercise server-side dedup).</summary>
    public bool Requeue(byte[] id, string sender, byte[] content)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            using var cmd = _db.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT peer, sent_at FROM messages WHERE sender = $sender AND id = $id AND direction = 1";
            cmd.Parameters.AddWithValue("$sender", sender);
            cmd.Parameters.AddWithValue("$id", id);
            string peer;
            long sentAt;
            using (var r = cmd.ExecuteReader())
            {
                if (!r.Read())
                {
                    return false;
                }
                peer = r.GetString(0);
                sentAt = r.GetInt64(1);
            }
            Execute(tx, "INSERT OR IGNORE INTO outbox (id, peer, sent_at, content) VALUES ($id, $peer, $sent_at, $content)",
                ("$id", id), ("$peer", peer), ("$sent_at", sentAt), ("$content", content));
            tx.Commit();
            return true;
        }
    }

    /// <summary>
    /// Moves one message of (<paramref name="sender"/>, <paramref name="id"/>) in conversation
    /// <paramref name="peer"/> forward to <paramref name="status"/>; never backwards. Returns the
    /// message when its status changed, else null.
    /// </summary>
    public StoredMessage? Advance(string sender, string peer, byte[] id, MessageStatus status)
    {
        lock (_gate)
        {
            var changed = Execute(null, """
                UPDATE messages SET status = $status
                WHERE sender = $sender AND peer = $peer AND id = $id AND status < $status AND status <> $failed
                """, ("$status", (int)status), ("$sender", sender), ("$peer", peer), ("$id", id), ("$failed", (int)MessageStatus.Failed));
            return changed > 0 ? FindUnlocked("sender = $sender AND id = $id", ("$sender", sender), ("$id", id)) : null;
        }
    }

    // ───────────── incoming ─────────────

    /// <summary>
    /// Stores a received message (or a sync copy of one this account sent from another device)
    /// unless (sender, id) is already stored. True when it was new.
    /// </summary>
    public bool InsertReceived(StoredMessage message, byte[] id, long? order = null)
    {
        lock (_gate)
        {
            // A null local_order is the next one: INTEGER PRIMARY KEY AUTOINCREMENT counts up from 1
            // past every order ever stored, and negative (history) orders never move it.
            return Execute(null, """
                INSERT OR IGNORE INTO messages (local_order, id, sender, sender_device, peer, direction, text, sent_at, status, shown)
                VALUES ($order, $id, $sender, $device, $peer, $direction, $text, $sent_at, $status, $shown)
                """,
                ("$order", order is { } o ? o : DBNull.Value),
                ("$id", id), ("$sender", message.Sender), ("$device", message.SenderDevice), ("$peer", message.Peer),
                ("$direction", (int)message.Direction), ("$text", message.Text), ("$sent_at", message.SentAt.ToUnixTimeMilliseconds()),
                ("$status", (int)message.Status), ("$shown", 0)) > 0;
        }
    }

    /// <summary>
    /// Returns the messages that arrived and were not yet shown (of one conversation, or all), oldest
    /// first, and marks them shown in the same transaction: messages from peers, and the copies of
    /// what this account sent from its other devices. Sends of this device are never returned.
    /// </summary>
    public IReadOnlyList<StoredMessage> TakeUnshown(string? peer = null)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            var where = peer is null ? "shown = 0" : "shown = 0 AND peer = $peer";
            var args = peer is null ? [] : new[] { ("$peer", (object)peer) };
            var list = Query(tx, $"SELECT * FROM messages WHERE {where} ORDER BY local_order", args);
            Execute(tx, $"UPDATE messages SET shown = 1 WHERE {where}", args);
            tx.Commit();
            return list;
        }
    }

    /// <summary>Finds a message by its id (either direction); null when unknown.</summary>
    public StoredMessage? Find(byte[] id)
    {
        lock (_gate)
        {
            return FindUnlocked("id = $id", ("$id", id));
        }
    }

    /// <summary>The last <paramref name="limit"/> messages of the conversation with <paramref name="peer"/>, oldest first.</summary>
    public IReadOnlyList<StoredMessage> Conversation(string peer, int limit)
    {
        lock (_gate)
        {
            var list = Query(null, "SELECT * FROM (SELECT * FROM messages WHERE peer = $peer ORDER BY local_order DESC LIMIT $limit) ORDER BY local_order",
                ("$peer", peer), ("$limit", limit));
            return list;
        }
    }

    /// <summary>The <paramref name="limit"/> messages of <paramref name="peer"/>'s conversation stored just before its message <paramref name="id"/>, oldest first.</summary>
    public IReadOnlyList<StoredMessage> ConversationBefore(string peer, byte[] id, int limit)
    {
        lock (_gate)
        {
            return Query(null, """
                SELECT * FROM (SELECT * FROM messages WHERE peer = $peer
                    AND local_order < (SELECT MIN(local_order) FROM messages WHERE peer = $peer AND id = $id)
                    ORDER BY local_order DESC LIMIT $limit) ORDER BY local_order
                """, ("$peer", peer), ("$id", id), ("$limit", Math.Max(limit, 0)));
        }
    }

    /// <summary>The incoming messages of <paramref name="peer"/>'s conversation not yet Read, oldest first.</summary>
    public IReadOnlyList<StoredMessage> Unread(string peer)
    {
        lock (_gate)
        {
            return Query(null, "SELECT * FROM messages WHERE peer = $peer AND direction = $incoming AND status < $read ORDER BY local_order",
                ("$peer", peer), ("$incoming", (int)MessageDirection.Incoming), ("$read", (int)MessageStatus.Read));
        }
    }

    // ───────────── device lists ─────────────

    /// <summary>The cached device ids of <paramref name="user"/>, or null when not cached.</summary>
    public IReadOnlyList<uint>? CachedDevices(string user)
    {
        lock (_gate)
        {
            var value = Scalar("SELECT ids FROM devices WHERE user = $user", ("$user", user)) as string;
            if (value is null)
            {
                return null;
            }
            return value.Length == 0 ? [] : [.. value.Split(',').Select(s => uint.Parse(s, CultureInfo.InvariantCulture))];
        }
    }

    /// <summary>Replaces the cached device list of <paramref name="user"/>.</summary>
    public void CacheDevices(string user, IEnumerable<uint> deviceIds)
    {
        var ids = string.Join(',', deviceIds.Distinct().Order().Select(d => d.ToString(CultureInfo.InvariantCulture)));
        lock (_gate)
        {
            Execute(null, "INSERT INTO devices (user, ids) VALUES ($user, $ids) ON CONFLICT (user) DO UPDATE SET ids = excluded.ids",
                ("$user", user), ("$ids", ids));
        }
    }

    /// <summary>Nothing to do: every method commits before it returns.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Closes the database once no store call is in flight: a loop still finishing its last write (the ack pump's persist, a sync) holds the gate, and closing under it rolled its transaction back on a closed connection.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _db.Dispose();
        }
    }

    // ───────────── plumbing ─────────────

    private StoredMessage? FindUnlocked(string where, params (string Name, object Value)[] args)
    {
        var list = Query(null, $"SELECT * FROM messages WHERE {where} ORDER BY local_order LIMIT 1", args);
        return list.Count > 0 ? list[0] : null;
    }

    private List<StoredMessage> Query(SqliteTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var r = cmd.ExecuteReader();
        var list = new List<StoredMessage>();
        while (r.Read())
        {
            list.Add(new StoredMessage(
                MessageId.ToText((byte[])r["id"]),
                (string)r["peer"],
                (MessageDirection)r.GetInt32(r.GetOrdinal("direction")),
                (string)r["sender"],
                (uint)r.GetInt64(r.GetOrdinal("sender_device")),
                (string)r["text"],
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(r.GetOrdinal("sent_at"))),
                (MessageStatus)r.GetInt32(r.GetOrdinal("status"))));
        }
        return list;
    }

    private string? GetConfig(string key) => Scalar("SELECT value FROM config WHERE key = $key", ("$key", key)) as string;

    private void SetConfig(SqliteTransaction tx, string key, string value) => Execute(tx,
        "INSERT INTO config (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ("$key", key), ("$value", value));

    private object? Scalar(string sql, params (string Name, object Value)[] args)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return cmd.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        lock (_gate)
        {
            Execute(null, sql);
        }
    }

    private int Execute(SqliteTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return cmd.ExecuteNonQuery();
    }
}
