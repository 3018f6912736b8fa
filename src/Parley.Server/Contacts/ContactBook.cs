using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Contacts;

/// <summary>
/// Who has written to whom: an edge (A, B) exists once A has sent B a message. Typing is allowed
/// between conversation peers (an edge either way), presence follows the watched user's setting
/// (by default only users the watched user has written to), and a send along a missing edge is a
/// new contact. Checks are in-memory lookups: an account's edges are loaded from the store the
/// first time it is asked about (one read per account per process); a new edge is added in memory
/// at once and made durable by the message store in the same group commit as the message that
/// made it (see <see cref="Messaging.DedupKey.NewContact"/>), so no send waits for an extra write.
/// </summary>
public sealed class ContactBook(IContactStore store)
{
    private readonly ConcurrentDictionary<(long Sender, long Recipient), byte> _edges = new();
    // Accounts whose stored edges are in _edges, with their presence setting. Edges are never
    // dropped from memory, so an edge added before its account was loaded is still seen after.
    private readonly ConcurrentDictionary<long, PresenceVisibility> _loaded = new();
    private readonly Lock _loadLock = new();

    /// <summary>Whether <paramref name="sender"/> has ever sent <paramref name="recipient"/> a message.</summary>
    public bool HasWritten(long sender, long recipient)
    {
        EnsureLoaded(sender);
        return _edges.ContainsKey((sender, recipient));
    }

    /// <summary>Whether the two accounts have a conversation: either has written to the other (or they are one account).</summary>
    public bool AreConversationPeers(long a, long b) => a == b || HasWritten(a, b) || HasWritten(b, a);

    /// <summary>
    /// Records in memory that <paramref name="sender"/> wrote to <paramref name="recipient"/>; true
    /// when this is the first time, and the caller must then have the edge stored.
    /// </summary>
    public bool RecordWrite(long sender, long recipient)
    {
        if (sender == recipient || HasWritten(sender, recipient))
        {
            return false;
        }
        return _edges.TryAdd((sender, recipient), 0);
    }

    /// <summary>The account's presence setting.</summary>
    public PresenceVisibility VisibilityOf(long account)
    {
        EnsureLoaded(account);
        return _loaded[account];
    }

    /// <summary>Changes the account's presence setting, durably.</summary>
    public void SetVisibility(long account, PresenceVisibility visibility)
    {
        EnsureLoaded(account);
        store.SaveVisibility(account, visibility);
        _loaded[account] = visibility;
    }

    /// <summary>Whether <paramref name="watcher"/> may see <paramref name="user"/>'s presence and last seen.</summary>
    public bool MaySeePresence(long watcher, long user) => watcher == user || VisibilityOf(user) switch
    {
        PresenceVisibility.Everyone => true,
        PresenceVisibility.Contacts => HasWritten(user, watcher),
        _ => false,
    };

    private void EnsureLoaded(long account)
    {
        if (_loaded.ContainsKey(account))
        {
            return;
        }
        lock (_loadLock)
        {
            if (_loaded.ContainsKey(account))
            {
                return;
            }
            foreach (var edge in store.LoadEdges(account))
            {
                _edges.TryAdd(edge, 0);
            }
            _loaded[account] = store.LoadVisibility(account);
        }
    }
}
