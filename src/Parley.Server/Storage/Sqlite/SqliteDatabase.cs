using Microsoft.Data.Sqlite;
using Parley.Server.Configuration;

namespace Parley.Server.Storage.Sqlite;

/// <summary>The embedded database file: WAL mode, schema created on first open.</summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;
    private readonly string _synchronous;

    public SqliteDatabase(string dataDir, StorageOptions options)
    {
        Directory.CreateDirectory(dataDir);
        Path = System.IO.Path.Combine(dataDir, "parley.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _synchronous = options.Synchronous == SynchronousMode.Full ? "FULL" : "NORMAL";
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Execute(connection, Schema);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens a connection with the pragmas every connection needs.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, $"PRAGMA synchronous={_synchronous}; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=OFF;");
        return connection;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // queue and sent are WITHOUT ROWID: their primary key is the only index they need.
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
        CREATE TABLE IF NOT EXISTS queue (
            device INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY (device, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS sent (
            sender INTEGER NOT NULL,
            message_id BLOB NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (sender, message_id)
        ) WITHOUT ROWID;
        """;
}
