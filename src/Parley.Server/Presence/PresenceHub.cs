using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Contacts;
using Parley.Server.Gateway;

namespace Parley.Server.Presence;

/// <summary>
/// Who is online on this node and who watches whom. Presence is ephemeral: updates go only to
/// connections watching now, and are dropped for a connection whose outbound queue is full.
/// Who may watch whom follows the watched user's <see cref="PresenceVisibility"/>, checked at
/// subscribe time and again at every update (so a changed setting applies at once); typing goes
/// only between conversation peers.
/// </summary>
public sealed class PresenceHub(AccountDirectory directory, ContactBook contacts, TimeProvider time)
{
    /// <summary>Most users one connection may watch.</summary>
    public const int MaxWatchedPerConnection = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, int> _onlineDevices = [];
    private readonly Dictionary<long, HashSet<DeviceConnection>> _watchers = [];

    // Connections between DeviceOnline and DeviceOffline. A subscription is handled apart from the
    // receive loop, so it can land after its connection went offline: it must not watch then, or
    // the closed connection would stay in _watchers for good.
    private readonly HashSet<DeviceConnection> _connected = [];

    public void DeviceOnline(DeviceConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        connection.Account.DeviceActivity.AddOrUpdate(connection.DeviceId, (now, 1), (_, a) => (now, a.Open + 1));
        bool first;
        lock (_lock)
        {
            _onlineDevices.TryGetValue(connection.Account.Id, out var n);
            _onlineDevices[connection.Account.Id] = n + 1;
            first = n == 0;
            _connected.Add(connection);
        }
        if (first)
        {
            Notify(connection.Account, online: true);
        }
    }

    public void DeviceOffline(DeviceConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var left = time.GetUtcNow().ToUnixTimeMilliseconds();
        connection.Account.DeviceActivity.AddOrUpdate(connection.DeviceId, (left, 0), (_, a) => (left, Math.Max(0, a.Open - 1)));
        bool last;
        lock (_lock)
        {
            if (!_connected.Remove(connection))
            {
                return;
            }
            foreach (var watched in connection.WatchedAccounts)
            {
                if (_watchers.TryGetValue(watched, out var set) && set.Remove(connection) && set.Count == 0)
                {
                    _watchers.Remove(watched);
                }
            }
            connection.WatchedAccounts.Clear();
            _onlineDevices.TryGetValue(connection.Account.Id, out var n);
            last = n <= 1;
            if (last)
            {
                _onlineDevices.Remove(connection.Account.Id);
            }
            else
            {
                _onlineDevices[connection.Account.Id] = n - 1;
            }
        }
        if (last)
        {
            directory.SetLastSeen(connection.Account, time.GetUtcNow().ToUnixTimeMilliseconds());
            Notify(connection.Account, online: false);
        }
    }

    /// <summary>Whether <paramref name="from"/> may send typing to <paramref name="to"/>: only within a conversation.</summary>
    public bool MayType(Account from, Account to) => contacts.AreConversationPeers(from.Id, to.Id);

    /// <summary>Sets who may see the account's presence; durable, and applies to updates already subscribed.</summary>
    public ServerFrame SetVisibility(Account account, SetPresenceVisibility request)
    {
        if (!Enum.IsDefined(request.Visibility))
        {
            return Messaging.MessageRouter.Fail(ErrorCode.BadRequest, "visibility must be CONTACTS, EVERYONE or NOBODY");
        }
        contacts.SetVisibility(account.Id, request.Visibility);
        return new ServerFrame { Ok = new Ok() };
    }

    /// <summary>Starts watching the users the caller may see (unknown and hidden names are skipped) and returns their presence now.</summary>
    public PresenceSnapshot Subscribe(DeviceConnection connection, IEnumerable<string> users)
    {
        var snapshot = new PresenceSnapshot();
        // Checked outside the lock: the first check for an account may read its contacts from the database.
        var visible = new List<Account>();
        foreach (var user in users)
        {
            if (directory.Find(user) is { } account && contacts.MaySeePresence(connection.Account.Id, account.Id))
            {
                visible.Add(account); // unknown and hidden users look alike: the snapshot simply leaves them out
            }
        }
        lock (_lock)
        {
            if (!_connected.Contains(connection))
            {
                return snapshot; // gone offline meanwhile: nobody reads the answer
            }
            foreach (var account in visible)
            {
                if (!connection.WatchedAccounts.Contains(account.Id))
                {
                    if (connection.WatchedAccounts.Count >= MaxWatchedPerConnection)
                    {
                        continue; // not watched, so not in the snapshot either: it would promise updates that never come
                    }
                    connection.WatchedAccounts.Add(account.Id);
                    if (!_watchers.TryGetValue(account.Id, out var set))
                    {
                        _watchers[account.Id] = set = [];
                    }
                    set.Add(connection);
                }
                snapshot.Users.Add(new PresenceUpdate
                {
                    User = account.User,
                    Online = _onlineDevices.ContainsKey(account.Id),
                    LastSeen = account.LastSeen,
                });
            }
        }
        return snapshot;
    }

    private void Notify(Account account, bool online)
    {
        DeviceConnection[] watchers;
        lock (_lock)
        {
            if (!_watchers.TryGetValue(account.Id, out var set))
            {
                return;
            }
            watchers = [.. set];
        }
        var update = new PresenceUpdate { User = account.User, Online = online, LastSeen = account.LastSeen };
        foreach (var watcher in watchers)
        {
            if (!contacts.MaySeePresence(watcher.Account.Id, account.Id))
            {
                continue;
            }
            watcher.TrySend(new ServerFrame { PresenceUpdate = update });
        }
    }
}
