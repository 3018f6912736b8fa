using System.Collections.Concurrent;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Accounts;

/// <summary>
/// Every account, in memory, backed by <see cref="IAccountStore"/>: lookups on the hot path
/// (auth, routing, device-list checks) never touch the database.
/// </summary>
public sealed class AccountDirectory
{
    private readonly IAccountStore _store;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Account> _byUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Account> _byId = new();
    private readonly Lock _writeLock = new();
    private readonly ConcurrentDictionary<long, long> _unsavedLastSeen = new();

    public AccountDirectory(IAccountStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        foreach (var account in store.LoadAll())
        {
            _byUser[account.User] = account;
            _byId[account.Id] = account;
        }
    }

    public int Count => _byId.Count;

    public Account? Find(string user) => _byUser.GetValueOrDefault(user);

    public Account? Find(long accountId) => _byId.GetValueOrDefault(accountId);

    /// <summary>The device when the credentials match; null otherwise (without saying which part was wrong).</summary>
    public (Account Account, DeviceRecord Device)? Authenticate(string user, uint deviceId, string password)
    {
        var account = Find(user);
        var device = account?.FindDevice(deviceId);
        if (account is null || device is null || !DeviceSecret.Matches(device, password))
        {
            return null;
        }
        return (account, device);
    }

    /// <summary>Creates an account with device 1; null when the name is taken.</summary>
    public DeviceCredentials? Create(string user, string? phone, string deviceName)
    {
        lock (_writeLock)
        {
            if (_byUser.ContainsKey(user))
            {
                return null;
            }
            var (record, password) = NewDevice(1, deviceName);
            var id = _store.CreateAccount(user, phone, record);
            if (id is null)
            {
                return null;
            }
            var account = new Account(id.Value, user, phone, [record], 0);
            _byId[account.Id] = account;
            _byUser[user] = account;
            return new DeviceCredentials(user, 1, password);
        }
    }

    /// <summary>
    /// Stores <paramref name="signed"/> as the account's device list when <see cref="DeviceListRules.Check"/>
    /// accepts it as the next one (checked and stored under the write lock, so two publishes cannot
    /// both pass with the same version); returns the problem otherwise. The list already held, byte for
    /// byte, is accepted again without a change: a publish repeated by a retry or by a second task of the
    /// same primary (its connect upkeep beside a removal) is not an error.
    /// </summary>
    public string? PublishDeviceList(Account account, SignedDeviceList signed)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_writeLock)
        {
            if (account.DeviceList is { } current && current.Signed.Equals(signed))
            {
                return null;
            }
            var (list, problem) = DeviceListRules.Check(account, signed);
            if (list is null)
            {
                return problem;
            }
            _store.SaveDeviceList(account.Id, list.Version, list.Signed.ToByteArray());
            account.DeviceList = list;
            return null;
        }
    }

    /// <summary>Adds the next device to an account; null when it already has <paramref name="maxDevices"/>.</summary>
    public DeviceCredentials? AddDevice(Account account, string deviceName, int maxDevices)
    {
        lock (_writeLock)
        {
            var devices = account.Devices;
            if (devices.Length >= maxDevices)
            {
                return null;
            }
            // Never an id the account had before: a removed device's id must not come to mean another device.
            uint next = Math.Max(account.HighestDeviceId, devices.IsEmpty ? 0 : devices.Max(d => d.Id)) + 1;
            var (record, password) = NewDevice(next, deviceName);
            _store.AddDevice(account.Id, record);
            account.AddDevice(record);
            return new DeviceCredentials(account.User, next, password);
        }
    }

    /// <summary>Removes a device of the account (credentials and record); false when it has no such device.</summary>
    public bool RemoveDevice(Account account, uint deviceId)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_writeLock)
        {
            if (account.FindDevice(deviceId) is null)
            {
                return false;
            }
            _store.RemoveDevice(account.Id, deviceId);
            account.RemoveDevice(deviceId);
            return true;
        }
    }

    /// <summary>
    /// Updates last seen at once in memory; the database gets it with the next flush (every few
    /// seconds, and at shutdown), so a wave of disconnects costs one transaction, not one each.
    /// </summary>
    public void SetLastSeen(Account account, long unixMs)
    {
        account.LastSeen = unixMs;
        _unsavedLastSeen[account.Id] = unixMs;
    }

    /// <summary>Writes pending last-seen times; returns how many.</summary>
    public int FlushLastSeen()
    {
        var batch = new List<KeyValuePair<long, long>>();
        foreach (var id in _unsavedLastSeen.Keys)
        {
            if (_unsavedLastSeen.TryRemove(id, out var at))
            {
                batch.Add(new(id, at));
            }
        }
        if (batch.Count > 0)
        {
            _store.SetLastSeen(batch);
        }
        return batch.Count;
    }

    private (DeviceRecord Record, string Password) NewDevice(uint id, string name)
    {
        var password = DeviceSecret.NewPassword();
        var salt = DeviceSecret.NewSalt();
        var record = new DeviceRecord(id, name, salt, DeviceSecret.Hash(salt, password), _time.GetUtcNow().ToUnixTimeMilliseconds());
        return (record, password);
    }
}
