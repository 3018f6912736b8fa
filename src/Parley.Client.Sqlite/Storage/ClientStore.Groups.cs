using System.Globalization;
using Microsoft.Data.Sqlite;
using Parley.Client.Groups;
using Parley.Crypto;
using Parley.Crypto.Groups;

namespace Parley.Client.Storage;

// Groups: what this device knows of each group (members and roles as the server last said, the
// title from the members' encrypted group-state messages), the sender keys of every member device
// (ISenderKeyStore), who holds this device's current sender key, and per-member ticks.
internal sealed partial class ClientStore : ISenderKeyStore
{
    private void CreateGroupTables() => Execute("""
        CREATE TABLE IF NOT EXISTS groups (
            id BLOB PRIMARY KEY,
            version INTEGER NOT NULL,
            member INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            title_at INTEGER NOT NULL DEFAULT 0,
            distribution TEXT,
            rotate INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS group_members (
            group_id BLOB NOT NULL, user TEXT NOT NULL, admin INTEGER NOT NULL, joined_at INTEGER NOT NULL,
            PRIMARY KEY (group_id, user));
        CREATE TABLE IF NOT EXISTS sender_keys (
            user TEXT NOT NULL, device INTEGER NOT NULL, distribution TEXT NOT NULL, record BLOB NOT NULL,
            PRIMARY KEY (user, device, distribution));
        CREATE TABLE IF NOT EXISTS sender_key_holders (
            group_id BLOB NOT NULL, distribution TEXT NOT NULL, user TEXT NOT NULL, device INTEGER NOT NULL,
            PRIMARY KEY (group_id, distribution, user, device));
        CREATE TABLE IF NOT EXISTS group_receipts (
            id BLOB NOT NULL, user TEXT NOT NULL, device INTEGER NOT NULL, status INTEGER NOT NULL,
            PRIMARY KEY (id, user, device));
        """);

    // ───────────── group state ─────────────

    /// <summary>
    /// Applies a group state from the server when its version is newer than the one stored (or the
    /// group is new): members and roles are replaced, the title is kept. True when it was applied.
    /// </summary>
    public bool ApplyGroupState(byte[] groupId, ulong version, IReadOnlyList<GroupParticipant> members, string me)
    {
        lock (_gate)
        {
            var stored = Scalar("SELECT version FROM groups WHERE id = $id", ("$id", groupId));
            if (stored is long v && (ulong)v >= version)
            {
                return false;
            }
            using var tx = _db.BeginTransaction();
            var isMember = members.Any(m => m.User == me) ? 1 : 0;
            Execute(tx, """
                INSERT INTO groups (id, version, member) VALUES ($id, $version, $member)
                ON CONFLICT (id) DO UPDATE SET version = excluded.version, member = excluded.member
                """, ("$id", groupId), ("$version", (long)version), ("$member", isMember));
            Execute(tx, "DELETE FROM group_members WHERE group_id = $id", ("$id", groupId));
            foreach (var m in members)
            {
                Execute(tx, "INSERT OR REPLACE INTO group_members (group_id, user, admin, joined_at) VALUES ($id, $user, $admin, $joined)",
                    ("$id", groupId), ("$user", m.User), ("$admin", m.IsAdmin ? 1 : 0), ("$joined", m.JoinedAt.ToUnixTimeMilliseconds()));
            }
            tx.Commit();
            return true;
        }
    }

    /// <summary>Marks this device's sender key of the group for rotation before its next group message (a member was removed or left).</summary>
    public void MarkSenderKeyRotation(byte[] groupId)
    {
        lock (_gate)
        {
            Execute(null, "UPDATE groups SET rotate = 1 WHERE id = $id AND distribution IS NOT NULL", ("$id", groupId));
        }
    }

    /// <summary>Sets the group's title when <paramref name="at"/> is newer than the title stored (group-state messages may arrive out of order).</summary>
    public bool SetGroupTitle(byte[] groupId, string title, long at)
    {
        lock (_gate)
        {
            return Execute(null, "UPDATE groups SET title = $title, title_at = $at WHERE id = $id AND title_at <= $at",
                ("$id", groupId), ("$title", title), ("$at", at)) > 0;
        }
    }

    /// <summary>One group as stored, or null when this device has never seen it.</summary>
    public GroupInfo? FindGroup(byte[] groupId)
    {
        lock (_gate)
        {
            return ReadGroups("WHERE id = $id", ("$id", groupId)).FirstOrDefault();
        }
    }

    /// <summary>Every group this device knows of (including those it has left), by title.</summary>
    public IReadOnlyList<GroupInfo> AllGroups()
    {
        lock (_gate)
        {
            return ReadGroups("");
        }
    }

    private List<GroupInfo> ReadGroups(string where, params (string Name, object Value)[] args)
    {
        var rows = new List<(byte[] Id, long Version, bool Member, string Title)>();
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = $"SELECT id, version, member, title FROM groups {where} ORDER BY title, id";
            foreach (var (name, value) in args)
            {
                cmd.Parameters.AddWithValue(name, value);
            }
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                rows.Add(((byte[])r[0], r.GetInt64(1), r.GetInt64(2) != 0, r.GetString(3)));
            }
        }
        var groups = new List<GroupInfo>(rows.Count);
        foreach (var (id, version, member, title) in rows)
        {
            var members = new List<GroupParticipant>();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT user, admin, joined_at FROM group_members WHERE group_id = $id ORDER BY joined_at, user";
            cmd.Parameters.AddWithValue("$id", id);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                members.Add(new GroupParticipant(r.GetString(0), r.GetInt64(1) != 0, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2))));
            }
            groups.Add(new GroupInfo(GroupConversation.IdText(id), title, (ulong)version, member, members));
        }
        return groups;
    }

    // ───────────── this device's sender key ─────────────

    /// <summary>
    /// The distribution id of this device's current sender key in the group: a new one when there is
    /// none yet or a rotation is due (a removed member cannot read what follows), the stored one otherwise.
    /// </summary>
    public Guid CurrentDistribution(byte[] groupId)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT distribution, rotate FROM groups WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", groupId);
            string? current = null;
            var rotate = false;
            using (var r = cmd.ExecuteReader())
            {
                if (r.Read())
                {
                    current = r.IsDBNull(0) ? null : r.GetString(0);
                    rotate = r.GetInt64(1) != 0;
                }
            }
            if (current is not null && !rotate)
            {
                return Guid.Parse(current, CultureInfo.InvariantCulture);
            }
            var fresh = Guid.NewGuid();
            using var tx = _db.BeginTransaction();
            Execute(tx, "UPDATE groups SET distribution = $d, rotate = 0 WHERE id = $id", ("$id", groupId), ("$d", fresh.ToString("D")));
            Execute(tx, "DELETE FROM sender_key_holders WHERE group_id = $id", ("$id", groupId));
            tx.Commit();
            return fresh;
        }
    }

    /// <summary>The member devices known to hold this device's sender key <paramref name="distribution"/> of the group.</summary>
    public HashSet<(string User, uint Device)> SenderKeyHolders(byte[] groupId, Guid distribution)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT user, device FROM sender_key_holders WHERE group_id = $id AND distribution = $d";
            cmd.Parameters.AddWithValue("$id", groupId);
            cmd.Parameters.AddWithValue("$d", distribution.ToString("D"));
            using var r = cmd.ExecuteReader();
            var set = new HashSet<(string, uint)>();
            while (r.Read())
            {
                set.Add((r.GetString(0), (uint)r.GetInt64(1)));
            }
            return set;
        }
    }

    /// <summary>Records that a member device holds the sender key (its distribution message is durable on the server for it).</summary>
    public void AddSenderKeyHolder(byte[] groupId, Guid distribution, string user, uint device)
    {
        lock (_gate)
        {
            Execute(null, "INSERT OR IGNORE INTO sender_key_holders (group_id, distribution, user, device) VALUES ($id, $d, $user, $device)",
                ("$id", groupId), ("$d", distribution.ToString("D")), ("$user", user), ("$device", (long)device));
        }
    }

    /// <summary>Forgets that a device holds any of this device's sender keys (it asked for a resend: it lost them).</summary>
    public void ForgetSenderKeyHolder(string user, uint device)
    {
        lock (_gate)
        {
            Execute(null, "DELETE FROM sender_key_holders WHERE user = $user AND device = $device", ("$user", user), ("$device", (long)device));
        }
    }

    // ───────────── ISenderKeyStore (statement-level: usable inside Atomically) ─────────────

    /// <inheritdoc />
    public SenderKeyRecord? LoadSenderKey(ProtocolAddress sender, Guid distributionId)
    {
        ArgumentNullException.ThrowIfNull(sender);
        lock (_gate)
        {
            return Scalar("SELECT record FROM sender_keys WHERE user = $user AND device = $device AND distribution = $d",
                ("$user", sender.Name), ("$device", (long)sender.DeviceId), ("$d", distributionId.ToString("D"))) is byte[] record
                ? SenderKeyRecord.Deserialize(record)
                : null;
        }
    }

    /// <inheritdoc />
    public void StoreSenderKey(ProtocolAddress sender, Guid distributionId, SenderKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Execute(null, """
                INSERT INTO sender_keys (user, device, distribution, record) VALUES ($user, $device, $d, $record)
                ON CONFLICT (user, device, distribution) DO UPDATE SET record = excluded.record
                """, ("$user", sender.Name), ("$device", (long)sender.DeviceId), ("$d", distributionId.ToString("D")), ("$record", record.Serialize()));
        }
    }

    /// <summary>Test hook: forgets every sender key this device holds (as a restored backup would), so group messages fail to decrypt.</summary>
    public int DeleteAllSenderKeys()
    {
        lock (_gate)
        {
            return Execute(null, "DELETE FROM sender_keys");
        }
    }

    // ───────────── group messages and per-member ticks ─────────────

    /// <summary>Stores a group-state message of this device in the outbox only (no message row: it is not shown).</summary>
    public void AddGroupControl(byte[] id, string conversation, long sentAt, byte[] content)
    {
        lock (_gate)
        {
            Execute(null, "INSERT INTO outbox (id, peer, sent_at, content) VALUES ($id, $peer, $sent_at, $content)",
                ("$id", id), ("$peer", conversation), ("$sent_at", sentAt), ("$content", content));
        }
    }

    /// <summary>Records SENT of a group message with the member devices it went to (each starts at Sent), in one transaction.</summary>
    public bool CompleteGroupSend(byte[] id, string sender, IEnumerable<(string User, uint Device)> recipients)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute(tx, "DELETE FROM outbox WHERE id = $id", ("$id", id));
            foreach (var (user, device) in recipients)
            {
                Execute(tx, "INSERT OR IGNORE INTO group_receipts (id, user, device, status) VALUES ($id, $user, $device, 1)",
                    ("$id", id), ("$user", user), ("$device", (long)device));
            }
            var changed = Execute(tx, "UPDATE messages SET status = 1 WHERE sender = $sender AND id = $id AND status = 0",
                ("$sender", sender), ("$id", id));
            tx.Commit();
            return changed > 0;
        }
    }

    /// <summary>
    /// Moves one member's ticks of our group message forward (DELIVERED for one device, READ for
    /// every device of the member), then the message itself when every member device is delivered
    /// (or every member read it). Null when this is not our group message; else the new message
    /// status when it changed, or the current one.
    /// </summary>
    public (bool IsGroupMessage, StoredMessage? Changed) AdvanceGroupReceipt(byte[] id, string me, string member, uint device, MessageStatus status)
    {
        lock (_gate)
        {
            if (Scalar("SELECT 1 FROM group_receipts WHERE id = $id LIMIT 1", ("$id", id)) is null)
            {
                return (false, null);
            }
            using var tx = _db.BeginTransaction();
            if (status == MessageStatus.Read)
            {
                Execute(tx, "UPDATE group_receipts SET status = $s WHERE id = $id AND user = $user AND status < $s",
                    ("$s", (int)status), ("$id", id), ("$user", member));
            }
            else
            {
                Execute(tx, "UPDATE group_receipts SET status = $s WHERE id = $id AND user = $user AND device = $device AND status < $s",
                    ("$s", (int)status), ("$id", id), ("$user", member), ("$device", (long)device));
            }
            var least = Convert.ToInt32(ScalarTx(tx, "SELECT MIN(status) FROM group_receipts WHERE id = $id", ("$id", id)), CultureInfo.InvariantCulture);
            var changed = Execute(tx, "UPDATE messages SET status = $s WHERE sender = $me AND id = $id AND status < $s AND status <> $failed",
                ("$s", least), ("$me", me), ("$id", id), ("$failed", (int)MessageStatus.Failed));
            tx.Commit();
            return (true, changed > 0 ? FindUnlocked("sender = $sender AND id = $id", ("$sender", me), ("$id", id)) : null);
        }
    }

    /// <summary>Each member device's tick for our group message <paramref name="id"/>, by member and device; empty when not ours.</summary>
    public IReadOnlyList<MemberReceipt> GroupReceipts(byte[] id)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT user, device, status FROM group_receipts WHERE id = $id ORDER BY user, device";
            cmd.Parameters.AddWithValue("$id", id);
            using var r = cmd.ExecuteReader();
            var list = new List<MemberReceipt>();
            while (r.Read())
            {
                list.Add(new MemberReceipt(r.GetString(0), (uint)r.GetInt64(1), (MessageStatus)r.GetInt32(2)));
            }
            return list;
        }
    }

    private object? ScalarTx(SqliteTransaction tx, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return cmd.ExecuteScalar();
    }
}
