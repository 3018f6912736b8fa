using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;

namespace Parley.Server.Groups;

/// <summary>
/// Every group, in memory (loaded once at start), by id and by member account. Membership
/// lookups are dictionary reads; the per-account index is updated by
/// <see cref="GroupAdministration"/> under the group's gate.
/// </summary>
public sealed class GroupDirectory
{
    private readonly ConcurrentDictionary<ByteString, Group> _byId = new();
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<Group, byte>> _byAccount = new();
    private long _lastRow;

    public GroupDirectory(IGroupStore store)
    {
        foreach (var stored in store.LoadAll())
        {
            var group = new Group(stored.Row, ByteString.CopyFrom(stored.Id), stored.Version);
            foreach (var m in stored.Members)
            {
                group.Members[m.Account] = m;
                Joined(group, m.Account);
            }
            group.Invite = stored.Invite;
            foreach (var r in stored.Requests)
            {
                group.Requests[r.Account] = r;
            }
            _byId[group.Id] = group;
            _lastRow = Math.Max(_lastRow, stored.Row);
        }
    }

    /// <summary>The group with this id, or null.</summary>
    public Group? Find(ByteString id) => _byId.GetValueOrDefault(id);

    /// <summary>The groups the account is a member of.</summary>
    public IReadOnlyList<Group> GroupsOf(long account) =>
        _byAccount.TryGetValue(account, out var groups) ? [.. groups.Keys] : [];

    /// <summary>Whether the two accounts are members of a common group (from the per-account index, without locks).</summary>
    public bool ShareAGroup(long a, long b)
    {
        if (!_byAccount.TryGetValue(a, out var mine) || !_byAccount.TryGetValue(b, out var theirs))
        {
            return false;
        }
        var (small, large) = mine.Count <= theirs.Count ? (mine, theirs) : (theirs, mine);
        foreach (var group in small.Keys)
        {
            if (large.ContainsKey(group))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A new empty group with a fresh random 128-bit id, not yet visible to lookups.</summary>
    internal Group NewGroup() =>
        new(Interlocked.Increment(ref _lastRow), ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)), 0);

    internal void Add(Group group) => _byId[group.Id] = group;

    internal void Remove(Group group) => _byId.TryRemove(group.Id, out _);

    internal void Joined(Group group, long account) =>
        _byAccount.GetOrAdd(account, _ => new ConcurrentDictionary<Group, byte>())[group] = 0;

    internal void Left(Group group, long account)
    {
        if (_byAccount.TryGetValue(account, out var groups))
        {
            groups.TryRemove(group, out _);
        }
    }
}
