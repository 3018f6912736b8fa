using Microsoft.Data.Sqlite;
using Parley.Server.Configuration;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// The embedded database file: WAL mode, schema created on first open, the data folder private to
/// the server's user (0700) and the database files readable by it alone (0600, -wal and -shm too),
/// deleted rows overwritten (secure_delete=FAST).
/// </summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly string _secureDelete;

    public SqliteDatabase(string dataDir, StorageOptions options)
    {
        Path = System.IO.Path.Combine(dataDir, "parley.db");
        MakePrivate(dataDir, Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _synchronous = options.Synchronous == SynchronousMode.Full ? "FULL" : "NORMAL";
        _secureDelete = options.SecureDelete ? "FAST" : "OFF";
        using var connection = Open();
        Execute(connection, $"PRAGMA page_size={options.PageSize}; PRAGMA journal_mode=WAL; PRAGMA journal_size_limit=67108864;");
        CreateSchema(connection);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    private int _walBackfilled;

    /// <summary>Called by <see cref="WalCheckpointer"/> after each pass.</summary>
    internal void OnWalBackfilled() => Volatile.Write(ref _walBackfilled, 1);

    /// <summary>
    /// True once per checkpointer pass: the writer should then checkpoint the few frames it
    /// appended during the pass itself. A pass that runs beside a busy writer never catches up
    /// with it, and SQLite only starts the WAL over after a checkpoint that did; without this the
    /// WAL grows for as long as the load lasts (35 MB/s at 10,000 msgs/s), and every append
    /// extends the file, which costs the kernel far more than overwriting it.
    /// </summary>
    internal bool TakeWalBackfilled() => Interlocked.Exchange(ref _walBackfilled, 0) == 1;

    /// <summary>Opens a connection with the pragmas every connection needs.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // A big page cache keeps the hot queue pages in memory (no re-reads through the OS); mmap
        // lets readers (drains) share the OS page cache without copying. secure_delete=FAST zeroes
        // deleted envelope bodies in the pages a commit writes anyway (no extra I/O), so acked and
        // expired messages do not linger in the file; only freelist pages keep old bytes until reused.
        Execute(connection, $"PRAGMA synchronous={_synchronous}; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY; PRAGMA secure_delete={_secureDelete};");
        return connection;
    }

    /// <summary>
    /// Creates the folder 0700 and an empty database file 0600 before SQLite opens it: SQLite gives
    /// the -wal and -shm files it creates the database file's mode. A folder or files from an older
    /// version (0755, 0644) are tightened too.
    /// </summary>
    private static void MakePrivate(string dataDir, string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDir);
            return;
        }
        const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Directory.CreateDirectory(dataDir, PrivateFolder);
        System.IO.File.SetUnixFileMode(dataDir, PrivateFolder);
        if (!System.IO.File.Exists(databasePath))
        {
            using var created = new FileStream(databasePath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile });
        }
        foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm", databasePath + "-journal" })
        {
            if (System.IO.File.Exists(path))
            {
                System.IO.File.SetUnixFileMode(path, PrivateFile);
            }
        }
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Creates what is missing, in one transaction. A database from before the queue table had
    /// only envelopes with a (device, seq) index: every envelope it holds is undelivered, so each
    /// gets its queue row and the index goes.
    /// </summary>
    private static void CreateSchema(SqliteConnection connection)
    {
        Execute(connection, "BEGIN IMMEDIATE;");
        try
        {
            bool migrate = TableExists(connection, "envelopes") && !TableExists(connection, "queue");
            Execute(connection, Schema);
            if (migrate)
            {
                Execute(connection, "INSERT INTO queue(device, seq, size) SELECT device, seq, length(body) FROM envelopes; DROP INDEX IF EXISTS envelopes_by_device;");
            }
            // Columns added for the abuse limits. Rows from before keep a recipient of 0 (READ
            // receipts for them are not forwarded) and get their real size from the body.
            if (!ColumnExists(connection, "dedup", "recipient"))
            {
                Execute(connection, "ALTER TABLE dedup ADD COLUMN recipient INTEGER NOT NULL DEFAULT 0;");
            }
            if (!ColumnExists(connection, "queue", "size"))
            {
                Execute(connection, "ALTER TABLE queue ADD COLUMN size INTEGER NOT NULL DEFAULT 0;" +
                    "UPDATE queue SET size = (SELECT length(body) FROM envelopes WHERE envelopes.seq = queue.seq);");
            }
            // Fan-out bodies carry their recipient set; bodies from before keep their queue rows.
            if (!ColumnExists(connection, "envelopes", "recipients"))
            {
                Execute(connection, "ALTER TABLE envelopes ADD COLUMN recipients BLOB;");
            }
            // Contact edges were a keyed table with an index by recipient until the append-only one.
            if (TableExists(connection, "contacts"))
            {
                Execute(connection, "INSERT INTO contact_edges(sender, recipient) SELECT sender, recipient FROM contacts; DROP TABLE contacts;");
            }
            Execute(connection, "COMMIT;");
        }
        catch
        {
            Execute(connection, "ROLLBACK;");
            throw;
        }
    }

    private static bool ColumnExists(SqliteConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $c";
        command.Parameters.AddWithValue("$c", column);
        return command.ExecuteScalar() is not null;
    }

    private static bool TableExists(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $n";
        command.Parameters.AddWithValue("$n", name);
        return command.ExecuteScalar() is not null;
    }

    // Write locality decides throughput: every page a commit touches is written to the WAL again.
    // Envelope bodies are keyed by seq, so new ones append at the right edge of the tree. What is
    // still queued lives apart, in queue: tiny (device, seq) rows in a few pages, which an ack
    // deletes. Deleting bodies on ack would dirty a different page of bodies for nearly every ack
    // (acks come back in any order); the message store deletes them later instead, in seq order,
    // once nearly all of their neighbours are acked too, so a run of deletes empties whole pages.
    // Dedup is keyed message id first: ids are UUIDv7, so new rows also land at the right edge.
    // Its recipient (account id) lets a READ be checked against what the peer really sent the
    // reader; queue.size (body bytes) keeps the per-device queue byte count exact on ack.
    // contact_edges holds a row per (sender, recipient) pair that has exchanged a message, in
    // arrival order and without an index: the server reads it whole once and keeps it in memory,
    // and an append touches the last page only (a keyed table took a random page per new edge).
    // A group message (or group notice) is one envelopes row with device -2 and its recipient
    // device set in recipients (sorted device keys, varint deltas: about 3 bytes a device), and no
    // row per recipient: the server keeps what each device still owes in memory and persists, per
    // device, fanout_marks.acked_through, below which every fan-out to it is acked, about once a
    // second. A coalesced group receipt queued to a device keeps its member devices in recipients
    // the same way (no entry per member in its body). Bodies of the older layout (device -1, a queue row per device) are still served. groups and group_members hold membership and roles only,
    // group_invites a group's invite link (the SHA-256 of its secret, never the secret) and
    // group_requests the joins by such a link that wait for an admin.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS accounts (
            id INTEGER PRIMARY KEY,
            user TEXT NOT NULL UNIQUE,
            phone TEXT,
            created INTEGER NOT NULL,
            last_seen INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS devices (
            account INTEGER NOT NULL,
            device INTEGER NOT NULL,
            name TEXT NOT NULL,
            salt BLOB NOT NULL,
            hash BLOB NOT NULL,
            created INTEGER NOT NULL,
            PRIMARY KEY (account, device)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS invites (
            hash BLOB PRIMARY KEY,
            created INTEGER NOT NULL,
            used INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS envelopes (
            seq INTEGER PRIMARY KEY,
            device INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            body BLOB NOT NULL,
            recipients BLOB
        );
        CREATE TABLE IF NOT EXISTS queue (
            device INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            size INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (device, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS fanout_marks (
            device INTEGER PRIMARY KEY,
            acked_through INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS dedup (
            message_id BLOB NOT NULL,
            sender INTEGER NOT NULL,
            at INTEGER NOT NULL,
            recipient INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (message_id, sender)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS contact_edges (
            sender INTEGER NOT NULL,
            recipient INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS groups (
            row INTEGER PRIMARY KEY,
            id BLOB NOT NULL UNIQUE,
            version INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS group_members (
            grp INTEGER NOT NULL,
            account INTEGER NOT NULL,
            role INTEGER NOT NULL,
            joined INTEGER NOT NULL,
            PRIMARY KEY (grp, account)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS group_invites (
            grp INTEGER PRIMARY KEY,
            hash BLOB NOT NULL,
            approve INTEGER NOT NULL,
            creator INTEGER NOT NULL,
            created INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS group_requests (
            grp INTEGER NOT NULL,
            account INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (grp, account)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS privacy (
            account INTEGER PRIMARY KEY,
            presence INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS device_lists (
            account INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            signed BLOB NOT NULL
        );
        -- The highest device id each account ever had: ids are never given out again, so a
        -- removed device's id (in old signed lists, sessions and queues) never means another one.
        CREATE TABLE IF NOT EXISTS device_id_marks (
            account INTEGER PRIMARY KEY,
            highest INTEGER NOT NULL
        );
        """;
}
