using Parley.Protocol;
using Parley.Server.Groups;

namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// Groups in the embedded database. Reads once at start; every change goes through the message
/// store's group commit, in the transaction that queues its GROUP_CHANGE notice.
/// </summary>
public sealed class SqliteGroupStore(SqliteDatabase database, SqliteMessageStore messages) : IGroupStore
{
    public IReadOnlyList<StoredGroup> LoadAll()
    {
        using var connection = database.Open();
        var members = new Dictionary<long, List<StoredMember>>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT grp, account, role, joined FROM group_members";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                long row = reader.GetInt64(0);
                if (!members.TryGetValue(row, out var list))
                {
                    members[row] = list = [];
                }
                list.Add(new StoredMember(reader.GetInt64(1), (GroupRole)reader.GetInt64(2), reader.GetInt64(3)));
            }
        }
        var invites = new Dictionary<long, StoredInvite>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT grp, hash, approve, creator, created FROM group_invites";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                invites[reader.GetInt64(0)] = new StoredInvite((byte[])reader[1], reader.GetInt64(2) != 0, reader.GetInt64(3), reader.GetInt64(4));
            }
        }
        var requests = new Dictionary<long, List<StoredJoinRequest>>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT grp, account, at FROM group_requests";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                long row = reader.GetInt64(0);
                if (!requests.TryGetValue(row, out var list))
                {
                    requests[row] = list = [];
                }
                list.Add(new StoredJoinRequest(reader.GetInt64(1), reader.GetInt64(2)));
            }
        }
        var groups = new List<StoredGroup>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT row, id, version FROM groups";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                long row = reader.GetInt64(0);
                groups.Add(new StoredGroup(row, (byte[])reader[1], (ulong)reader.GetInt64(2), members.GetValueOrDefault(row) ?? [])
                {
                    Invite = invites.GetValueOrDefault(row),
                    Requests = requests.GetValueOrDefault(row) ?? [],
                });
            }
        }
        return groups;
    }

    public Task CommitAsync(GroupWrite write, Envelope notice, IReadOnlyList<long> deviceKeys) =>
        messages.CommitGroupAsync(write, notice, deviceKeys);
}
