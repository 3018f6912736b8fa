using Parley.Protocol;
using Parley.Server.Contacts;

namespace Parley.Server.Storage.Sqlite;

/// <summary>Contact edges and presence settings in the embedded database.</summary>
public sealed class SqliteContactStore(SqliteDatabase database) : IContactStore
{
    public IEnumerable<(long Sender, long Recipient)> LoadEdges()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // One scan of an append-only table: edges are written in arrival order (no index to keep),
        // so a commit full of new edges dirties the table's last page, not one random page each.
        command.CommandText = "SELECT sender, recipient FROM contact_edges";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    public PresenceVisibility LoadVisibility(long account)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT presence FROM privacy WHERE account = $a";
        command.Parameters.AddWithValue("$a", account);
        return command.ExecuteScalar() is long value && Enum.IsDefined((PresenceVisibility)value) ? (PresenceVisibility)value : PresenceVisibility.Contacts;
    }

    public void SaveVisibility(long account, PresenceVisibility visibility)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO privacy(account, presence) VALUES ($a, $p) ON CONFLICT(account) DO UPDATE SET presence = excluded.presence";
        command.Parameters.AddWithValue("$a", account);
        command.Parameters.AddWithValue("$p", (long)visibility);
        command.ExecuteNonQuery();
    }
}
