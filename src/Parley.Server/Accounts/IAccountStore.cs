namespace Parley.Server.Accounts;

/// <summary>Durable accounts, devices and invites. Calls are rare (registration, linking), so they are synchronous.</summary>
public interface IAccountStore
{
    /// <summary>Every account with its devices, for the in-memory directory at start-up.</summary>
    IReadOnlyList<Account> LoadAll();

    /// <summary>Creates the account with its first device; null when the user name is taken.</summary>
    long? CreateAccount(string user, string? phone, DeviceRecord firstDevice);

    /// <summary>Adds a device to an existing account.</summary>
    void AddDevice(long accountId, DeviceRecord device);

    /// <summary>Deletes a device of an account, so its credentials stop working.</summary>
    void RemoveDevice(long accountId, uint deviceId);

    /// <summary>Replaces the account's signed device list (the serialized <c>SignedDeviceList</c>).</summary>
    void SaveDeviceList(long accountId, ulong version, byte[] signed);

    /// <summary>Records when accounts' last devices went offline, in one transaction.</summary>
    void SetLastSeen(IReadOnlyCollection<KeyValuePair<long, long>> lastSeenByAccount);

    /// <summary>Stores a new invite (only its hash).</summary>
    void AddInvite(byte[] tokenHash, long createdAt);

    /// <summary>Marks the invite used; false when it does not exist or was used already.</summary>
    bool UseInvite(byte[] tokenHash, long usedAt);
}
