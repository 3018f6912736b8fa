using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Contacts;

/// <summary>
/// Who has written to whom: an edge (A, B) exists once A has sent B a message. Typing is allowed
/// between conversation peers (an edge either way), presence follows the watched user's setting
/// (by default only users the watched user has written to), and a send along a missing edge is a
/// new contact. Checks are in-memory lookups: every stored edge is read once, on first use (one
/// scan per process); a new edge is added in memory at once and made durable by the message store
/// in the same group commit as the message that made it (see
/// <see cref="Messaging.DedupKey.NewContact"/>), so no send waits for an extra write. Presence
/// settings are read per account, the first time it is asked about.
/// </summary>
public sealed class ContactBook(IContactStore store)
{
    // Per sender, the accounts it has written to: a plain hash set of account ids per account
    // (about 20 bytes an edge, nothing allocated per new edge beyond the set's own growth) rather
    // than one node per edge in a shared table. Each set is guarded by locking it.
    private readonly ConcurrentDictionary<long, HashSet<long>> _writtenTo = new();
    private readonly ConcurrentDictionary<long, PresenceVisibility> _visibility = new();
    private readonly Lock _loadLock = new();
    private volatile bool _edgesLoaded;

    /// <summary>Whether <paramref name="sender"/> has ever sent <paramref name="recipient"/> a message.</summary>
    public bool HasWritten(long sender, long recipient)
    {
        EnsureEdgesLoaded();
        if (!_writtenTo.TryGetValue(sender, out var set))
        {
            return false;
        }
        lock (set)
        {
            return set.Contains(recipient);
        }
    }

    /// <summary>Whether the two accounts have a conversation: either has written to the other (or they are one account).</summary>
    public bool AreConversationPeers(long a, long b) => a == b || HasWritten(a, b) || HasWritten(b, a);

    /// <summary>
    /// Records in memory that <paramref name="sender"/> wrote to <paramref name="recipient"/>; true
    /// exactly once per edge (the first time), and the caller must then have the edge stored.
    /// </summary>
    public bool RecordWrite(long sender, long recipient)
    {
        if (sender == recipient)
        {
            return false;
        }
        EnsureEdgesLoaded();
        return Add(sender, recipient);
    }

    /// <summary>The account's presence setting.</summary>
    public PresenceVisibility VisibilityOf(long account) =>
        _visibility.TryGetValue(account, out var visibility) ? visibility : _visibility.GetOrAdd(account, store.LoadVisibility);

    /// <summary>Changes the account's presence setting, durably.</summary>
    public void SetVisibility(long account, PresenceVisibility visibility)
    {
        store.SaveVisibility(account, visibility);
        _visibility[account] = visibility;
    }

    /// <summary>Whether <paramref name="watcher"/> may see <paramref name="user"/>'s presence and last seen.</summary>
    public bool MaySeePresence(long watcher, long user) => watcher == user || VisibilityOf(user) switch
    {
        PresenceVisibility.Everyone => true,
        PresenceVisibility.Contacts => HasWritten(user, watcher),
        _ => false,
    };

    private bool Add(long sender, long recipient)
    {
        var set = _writtenTo.GetOrAdd(sender, static _ => []);
        lock (set)
        {
            return set.Add(recipient);
        }
    }

    private void EnsureEdgesLoaded()
    {
        if (_edgesLoaded)
        {
            return;
        }
        lock (_loadLock)
        {
            if (_edgesLoaded)
            {
                return;
            }
            // An edge recorded before the load (none can be: every caller loads first) or stored
            // twice is simply seen again: Add ignores it.
            foreach (var (sender, recipient) in store.LoadEdges())
            {
                Add(sender, recipient);
            }
            _edgesLoaded = true;
        }
    }
}
