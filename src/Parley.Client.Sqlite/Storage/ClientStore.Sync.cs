using Microsoft.Data.Sqlite;

namespace Parley.Client.Storage;

/// <summary>The SQLite store's part of sync between an account's devices: the chat list and verified marks from another device.</summary>
internal sealed partial class ClientStore
{
    /// <summary>
    /// Every conversation with at least one stored message, the one with the latest stored message
    /// first: that message and the number of incoming messages not yet Read.
    /// </summary>
    public IReadOnlyList<ConversationActivity> ConversationSummaries()
    {
        lock (_gate)
        {
            var last = Query(null, """
                SELECT * FROM messages WHERE local_order IN (SELECT MAX(local_order) FROM messages GROUP BY peer)
                ORDER BY local_order DESC
                """);
            var unread = new Dictionary<string, int>(StringComparer.Ordinal);
            using (var cmd = _db.CreateCommand())
            {
                cmd.CommandText = "SELECT peer, COUNT(*) FROM messages WHERE direction = $incoming AND status < $read GROUP BY peer";
                cmd.Parameters.AddWithValue("$incoming", (int)MessageDirection.Incoming);
                cmd.Parameters.AddWithValue("$read", (int)MessageStatus.Read);
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    unread[r.GetString(0)] = r.GetInt32(1);
                }
            }
            return [.. last.Select(m => new ConversationActivity(m.Peer, m, unread.GetValueOrDefault(m.Peer)))];
        }
    }

    /// <summary>
    /// Applies another device's verified mark for <paramref name="user"/>'s account key
    /// <paramref name="key"/>; false, changing nothing, when another key is known here.
    /// </summary>
    public bool ApplyVerifiedSync(string user, byte[] key, bool verified)
    {
        lock (_gate)
        {
            if (Scalar("SELECT key FROM peer_identities WHERE user = $user", ("$user", user)) is not byte[] known)
            {
                if (verified)
                {
                    // Our own device compared this key: it becomes the key known here, verified; a list
                    // under another key later is an identity change, which blocks sends as for any verified key.
                    Execute(null, "INSERT INTO peer_identities (user, key, verified_key) VALUES ($user, $key, $key)", ("$user", user), ("$key", key));
                }
                return true;
            }
            if (!known.AsSpan().SequenceEqual(key))
            {
                return false;
            }
            Execute(null, verified
                ? "UPDATE peer_identities SET verified_key = key, changed = 0 WHERE user = $user"
                : "UPDATE peer_identities SET verified_key = NULL, changed = 0 WHERE user = $user", ("$user", user));
            return true;
        }
    }
}
