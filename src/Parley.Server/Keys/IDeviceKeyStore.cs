namespace Parley.Server.Keys;

/// <summary>Durable public keys of devices: identity, signed prekeys and the one-time prekeys that fetches consume.</summary>
public interface IDeviceKeyStore
{
    StoredDeviceKeys? Get(long deviceKey);

    /// <summary>Writes the long-lived keys and appends one-time prekeys, in one transaction.</summary>
    void Save(long deviceKey, StoredDeviceKeys keys, IReadOnlyList<StoredSignedKey> ecPreKeys, IReadOnlyList<StoredSignedKey> kyberPreKeys);

    /// <summary>Removes and returns the oldest one-time prekey of a kind; null when none is left.</summary>
    StoredSignedKey? Take(long deviceKey, PreKeyKind kind);

    /// <summary>One-time prekeys left of each kind, in one query.</summary>
    (int Ec, int Kyber) Count(long deviceKey);
}
