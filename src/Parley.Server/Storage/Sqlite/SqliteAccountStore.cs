using System.Collections.Immutable;
using Microsoft.Data.Sqlite;
using Parley.Server.Accounts;

namespace Parley.Server.Storage.Sqlite;

/// <summary>Accounts, devices and invites in the embedded database.</summary>
public sealed class SqliteAccountStore(SqliteDatabase database, TimeProvider time) : IAccountStore
{
    public IReadOnlyList<Account> LoadAll()
    {
        using var connection = database.Open();
        var devices = new Dictionary<long, List<DeviceRecord>>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT account, device, name, salt, hash, created FROM devices ORDER BY account, device";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var account = reader.GetInt64(0);
                if (!devices.TryGetValue(account, out var list))
                {
                    devices[account] = list = [];
                }
                list.Add(new DeviceRecord((uint)reader.GetInt64(1), reader.GetString(2), (byte[])reader[3], (byte[])reader[4], reader.GetInt64(5)));
            }
        }
        var lists = new Dictionary<long, byte[]>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT account, signed FROM device_lists";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                lists[reader.GetInt64(0)] = (byte[])reader[1];
            }
        }
        var marks = new Dictionary<long, uint>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT account, highest FROM device_id_marks";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                marks[reader.GetInt64(0)] = (uint)reader.GetInt64(1);
            }
        }
        var accounts = new List<Account>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, user, phone, last_seen FROM accounts";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                var list = devices.TryGetValue(id, out var d) ? d.ToImmutableArray() : [];
                var account = new Account(id, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), list, reader.GetInt64(3));
                // A database from before the marks knows no more than its devices.
                account.RaiseHighestDeviceId(marks.GetValueOrDefault(id));
                if (lists.TryGetValue(id, out var signed) && DeviceListRules.Parse(signed) is { } published)
                {
                    account.DeviceList = published;
                }
                accounts.Add(account);
            }
        }
        return accounts;
    }

    public long? CreateAccount(string user, string? phone, DeviceRecord firstDevice)
    {
        using var connection = database.Open();
        using var tx = connection.BeginTransaction();
        long id;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = "INSERT OR IGNORE INTO accounts(user, phone, created) VALUES ($u, $p, $c) RETURNING id";
            command.Parameters.AddWithValue("$u", user);
            command.Parameters.AddWithValue("$p", (object?)phone ?? DBNull.Value);
            command.Parameters.AddWithValue("$c", time.GetUtcNow().ToUnixTimeMilliseconds());
            var result = command.ExecuteScalar();
            if (result is null)
            {
                return null;
            }
            id = (long)result;
        }
        InsertDevice(connection, tx, id, firstDevice);
        tx.Commit();
        return id;
    }

    public void AddDevice(long accountId, DeviceRecord device)
    {
        using var connection = database.Open();
        using var tx = connection.BeginTransaction();
        InsertDevice(connection, tx, accountId, device);
        tx.Commit();
    }

    public void RemoveDevice(long accountId, uint deviceId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM devices WHERE account = $a AND device = $d";
        command.Parameters.AddWithValue("$a", accountId);
        command.Parameters.AddWithValue("$d", (long)deviceId);
        command.ExecuteNonQuery();
    }

    public void SaveDeviceList(long accountId, ulong version, byte[] signed)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO device_lists(account, version, signed) VALUES ($a, $v, $s)
            ON CONFLICT(account) DO UPDATE SET version = excluded.version, signed = excluded.signed
            """;
        command.Parameters.AddWithValue("$a", accountId);
        command.Parameters.AddWithValue("$v", (long)version);
        command.Parameters.AddWithValue("$s", signed);
        command.ExecuteNonQuery();
    }

    public void SetLastSeen(IReadOnlyCollection<KeyValuePair<long, long>> lastSeenByAccount)
    {
        using var connection = database.Open();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "UPDATE accounts SET last_seen = $t WHERE id = $id";
        var t = command.Parameters.Add("$t", SqliteType.Integer);
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        foreach (var (account, at) in lastSeenByAccount)
        {
            t.Value = at;
            id.Value = account;
            command.ExecuteNonQuery();
        }
        tx.Commit();
    }

    public void AddInvite(byte[] tokenHash, long createdAt)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO invites(hash, created) VALUES ($h, $c)";
        command.Parameters.AddWithValue("$h", tokenHash);
        command.Parameters.AddWithValue("$c", createdAt);
        command.ExecuteNonQuery();
    }

    public bool UseInvite(byte[] tokenHash, long usedAt)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE invites SET used = $u WHERE hash = $h AND used IS NULL";
        command.Parameters.AddWithValue("$h", tokenHash);
        command.Parameters.AddWithValue("$u", usedAt);
        return command.ExecuteNonQuery() == 1;
    }

    private static void InsertDevice(SqliteConnection connection, SqliteTransaction tx, long accountId, DeviceRecord device)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT INTO devices(account, device, name, salt, hash, created) VALUES ($a, $d, $n, $s, $h, $c)";
        command.Parameters.AddWithValue("$a", accountId);
        command.Parameters.AddWithValue("$d", (long)device.Id);
        command.Parameters.AddWithValue("$n", device.Name);
        command.Parameters.AddWithValue("$s", device.Salt);
        command.Parameters.AddWithValue("$h", device.SecretHash);
        command.Parameters.AddWithValue("$c", device.CreatedAt);
        command.ExecuteNonQuery();
        using var mark = connection.CreateCommand();
        mark.Transaction = tx;
        mark.CommandText = """
            INSERT INTO device_id_marks(account, highest) VALUES ($a, $d)
            ON CONFLICT(account) DO UPDATE SET highest = MAX(highest, excluded.highest)
            """;
        mark.Parameters.AddWithValue("$a", accountId);
        mark.Parameters.AddWithValue("$d", (long)device.Id);
        mark.ExecuteNonQuery();
    }
}
