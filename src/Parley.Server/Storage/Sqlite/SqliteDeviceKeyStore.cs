using Microsoft.Data.Sqlite;
using Parley.Server.Keys;

namespace Parley.Server.Storage.Sqlite;

/// <summary>Device keys in the embedded database. Rare calls (uploads, session starts), so one connection each.</summary>
public sealed class SqliteDeviceKeyStore : IDeviceKeyStore
{
    private readonly SqliteDatabase _database;

    public SqliteDeviceKeyStore(SqliteDatabase database)
    {
        _database = database;
        using var connection = database.Open();
        SqliteDatabase.Execute(connection, """
            CREATE TABLE IF NOT EXISTS device_keys (
                device INTEGER PRIMARY KEY,
                identity BLOB NOT NULL,
                registration_id INTEGER NOT NULL,
                signed_id INTEGER, signed_key BLOB, signed_sig BLOB, signed_at INTEGER,
                kyber_id INTEGER, kyber_key BLOB, kyber_sig BLOB, kyber_at INTEGER
            );
            CREATE TABLE IF NOT EXISTS prekeys (
                device INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                id INTEGER NOT NULL,
                key BLOB NOT NULL,
                sig BLOB NOT NULL,
                PRIMARY KEY (device, kind, id)
            ) WITHOUT ROWID;
            """);
    }

    public StoredDeviceKeys? Get(long deviceKey)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT identity, registration_id, signed_id, signed_key, signed_sig, signed_at, kyber_id, kyber_key, kyber_sig, kyber_at FROM device_keys WHERE device = $d";
        command.Parameters.AddWithValue("$d", deviceKey);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        return new StoredDeviceKeys((byte[])reader[0], (uint)reader.GetInt64(1), SignedAt(reader, 2), SignedAt(reader, 6));
    }

    public void Save(long deviceKey, StoredDeviceKeys keys, IReadOnlyList<StoredSignedKey> ecPreKeys, IReadOnlyList<StoredSignedKey> kyberPreKeys)
    {
        using var connection = _database.Open();
        using var tx = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = """
                INSERT OR REPLACE INTO device_keys(device, identity, registration_id, signed_id, signed_key, signed_sig, signed_at, kyber_id, kyber_key, kyber_sig, kyber_at)
                VALUES ($d, $i, $r, $si, $sk, $ss, $sa, $ki, $kk, $ks, $ka)
                """;
            command.Parameters.AddWithValue("$d", deviceKey);
            command.Parameters.AddWithValue("$i", keys.IdentityKey);
            command.Parameters.AddWithValue("$r", (long)keys.RegistrationId);
            Bind(command, "$s", keys.SignedPreKey);
            Bind(command, "$k", keys.KyberLastResort);
            command.ExecuteNonQuery();
        }
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = "INSERT OR REPLACE INTO prekeys(device, kind, id, key, sig) VALUES ($d, $k, $i, $p, $s)";
            var d = insert.Parameters.AddWithValue("$d", deviceKey);
            var k = insert.Parameters.Add("$k", SqliteType.Integer);
            var i = insert.Parameters.Add("$i", SqliteType.Integer);
            var p = insert.Parameters.Add("$p", SqliteType.Blob);
            var s = insert.Parameters.Add("$s", SqliteType.Blob);
            foreach (var (kind, list) in new[] { (PreKeyKind.Ec, ecPreKeys), (PreKeyKind.Kyber, kyberPreKeys) })
            {
                foreach (var key in list)
                {
                    k.Value = (long)kind;
                    i.Value = (long)key.Id;
                    p.Value = key.PublicKey;
                    s.Value = key.Signature;
                    insert.ExecuteNonQuery();
                }
            }
        }
        tx.Commit();
    }

    public StoredSignedKey? Take(long deviceKey, PreKeyKind kind)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM prekeys WHERE device = $d AND kind = $k
              AND id = (SELECT MIN(id) FROM prekeys WHERE device = $d AND kind = $k)
            RETURNING id, key, sig
            """;
        command.Parameters.AddWithValue("$d", deviceKey);
        command.Parameters.AddWithValue("$k", (long)kind);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new StoredSignedKey((uint)reader.GetInt64(0), (byte[])reader[1], (byte[])reader[2]) : null;
    }

    public (int Ec, int Kyber) Count(long deviceKey)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, COUNT(*) FROM prekeys WHERE device = $d GROUP BY kind";
        command.Parameters.AddWithValue("$d", deviceKey);
        using var reader = command.ExecuteReader();
        int ec = 0, kyber = 0;
        while (reader.Read())
        {
            if (reader.GetInt64(0) == (long)PreKeyKind.Ec)
            {
                ec = reader.GetInt32(1);
            }
            else
            {
                kyber = reader.GetInt32(1);
            }
        }
        return (ec, kyber);
    }

    private static StoredSignedKey? SignedAt(SqliteDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : new StoredSignedKey((uint)reader.GetInt64(column), (byte[])reader[column + 1], (byte[])reader[column + 2], reader.GetInt64(column + 3));

    private static void Bind(SqliteCommand command, string prefix, StoredSignedKey? key)
    {
        command.Parameters.AddWithValue(prefix + "i", key is null ? DBNull.Value : (long)key.Id);
        command.Parameters.AddWithValue(prefix + "k", (object?)key?.PublicKey ?? DBNull.Value);
        command.Parameters.AddWithValue(prefix + "s", (object?)key?.Signature ?? DBNull.Value);
        command.Parameters.AddWithValue(prefix + "a", key is null ? DBNull.Value : key.UploadedAt);
    }
}
