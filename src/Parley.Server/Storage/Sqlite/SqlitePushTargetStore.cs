using Microsoft.Data.Sqlite;
using Parley.Server.Push;

namespace Parley.Server.Storage.Sqlite;

/// <summary>Push subscriptions in the embedded database; one connection per call (they are rare).</summary>
public sealed class SqlitePushTargetStore : IPushTargetStore
{
    private readonly SqliteDatabase _database;

    public SqlitePushTargetStore(SqliteDatabase database)
    {
        _database = database;
        using var connection = database.Open();
        // The trigger keeps the promise that a device removed from its account loses its
        // subscription, whichever code path removes the device row.
        SqliteDatabase.Execute(connection, """
            CREATE TABLE IF NOT EXISTS push_targets (
                device INTEGER PRIMARY KEY,
                kind INTEGER NOT NULL,
                url TEXT NOT NULL,
                p256dh BLOB,
                auth BLOB,
                token TEXT
            );
            CREATE TRIGGER IF NOT EXISTS push_targets_device_removed AFTER DELETE ON devices
            BEGIN
                DELETE FROM push_targets WHERE device = (OLD.account << 16) | OLD.device;
            END;
            """);
    }

    public PushTarget? Get(long deviceKey)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, url, p256dh, auth, token FROM push_targets WHERE device = $d";
        command.Parameters.AddWithValue("$d", deviceKey);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        return new PushTarget(deviceKey, (PushKind)reader.GetInt64(0), reader.GetString(1),
            reader.IsDBNull(2) ? null : (byte[])reader[2],
            reader.IsDBNull(3) ? null : (byte[])reader[3],
            reader.IsDBNull(4) ? null : reader.GetString(4));
    }

    public IReadOnlyList<long> Devices()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT device FROM push_targets";
        using var reader = command.ExecuteReader();
        var devices = new List<long>();
        while (reader.Read())
        {
            devices.Add(reader.GetInt64(0));
        }
        return devices;
    }

    public void Put(PushTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO push_targets(device, kind, url, p256dh, auth, token) VALUES ($d, $k, $u, $p, $a, $t)";
        command.Parameters.AddWithValue("$d", target.DeviceKey);
        command.Parameters.AddWithValue("$k", (long)target.Kind);
        command.Parameters.AddWithValue("$u", target.Url);
        command.Parameters.AddWithValue("$p", (object?)target.P256dh ?? DBNull.Value);
        command.Parameters.AddWithValue("$a", (object?)target.Auth ?? DBNull.Value);
        command.Parameters.AddWithValue("$t", (object?)target.Token ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    public bool Remove(long deviceKey)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM push_targets WHERE device = $d";
        command.Parameters.AddWithValue("$d", deviceKey);
        return command.ExecuteNonQuery() > 0;
    }
}
