using Parley.Protocol;
using Parley.Server.Contacts;

namespace Parley.Server.Storage.Sqlite;

/// <summary>Contact edges and presence settings in the embedded database.</summary>
public sealed class SqliteContactStore(SqliteDatabase database) : IContactStore
{
    public IReadOnlyList<(long Sender, long Recipient)> LoadEdges(long account)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // Both directions: the primary key serves the first half, contacts_by_recipient the second.
        command.CommandText = "SELECT sender, recipient FROM contacts WHERE sender = $a UNION ALL SELECT sender, recipient FROM contacts WHERE recipient = $a";
        command.Parameters.AddWithValue("$a", account);
        using var reader = command.ExecuteReader();
        var edges = new List<(long, long)>();
        while (reader.Read())
        {
            edges.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }
        return edges;
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
