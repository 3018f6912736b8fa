using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Storage;

// Account identity and signed device lists in key-value storage (the browser): the same contract
// as ClientStore.Devices.cs, over the config collection and one collection of trusted lists.
internal sealed partial class KeyValueClientStore
{
    private readonly Table<TrustedListRow> _trustedLists = new("trusted_device_lists");

    public IdentityKeyPair? AccountKeyPair()
    {
        lock (_gate)
        {
            return Get(_config, "account_key_pair") is { } text ? IdentityKeyPair.Deserialize(Convert.FromBase64String(text)) : null;
        }
    }

    public IdentityKey? AccountPublicKey()
    {
        lock (_gate)
        {
            return Get(_config, "account_public_key") is { } text ? IdentityKey.Deserialize(Convert.FromBase64String(text)) : null;
        }
    }

    public void SaveAccountKeys(IdentityKeyPair? pair, IdentityKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        lock (_gate)
        {
            if (pair is not null)
            {
                Set(_config, "account_key_pair", Convert.ToBase64String(pair.Serialize()));
            }
            Set(_config, "account_public_key", Convert.ToBase64String(publicKey.Serialize()));
        }
    }

    public void MigrateAccountKeys(uint deviceId)
    {
        lock (_gate)
        {
            if (Get(_config, "account_public_key") is not null || Get(_config, "identity_key_pair") is not { } identity)
            {
                return;
            }
            if (deviceId == 1)
            {
                Set(_config, "account_key_pair", identity);
            }
            Set(_config, "account_public_key", Convert.ToBase64String(IdentityKeyPair.Deserialize(Convert.FromBase64String(identity)).IdentityKey.Serialize()));
        }
    }

    public SignedDeviceList? OwnSignedList()
    {
        lock (_gate)
        {
            return Get(_config, "own_signed_list") is { } text ? SignedDeviceList.Parser.ParseFrom(Convert.FromBase64String(text)) : null;
        }
    }

    public void SaveOwnSignedList(SignedDeviceList signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        lock (_gate)
        {
            Set(_config, "own_signed_list", Convert.ToBase64String(signed.ToByteArray()));
        }
    }

    public AccountDeviceList? TrustedList(string user)
    {
        lock (_gate)
        {
            return Get(_trustedLists, user) is { } row ? AccountDeviceList.Parser.ParseFrom(row.List) : null;
        }
    }

    public TrustOutcome TrustList(string user, AccountDeviceList list, bool isPeer)
    {
        ArgumentNullException.ThrowIfNull(list);
        var key = list.AccountKey.ToByteArray();
        lock (_gate)
        {
            var known = Get(_trustedLists, user);
            var sameKey = known is not null && known.AccountKey.AsSpan().SequenceEqual(key);
            if (sameKey && list.Version < known!.Version)
            {
                return TrustOutcome.RolledBack;
            }
            if (sameKey && list.Version == known!.Version)
            {
                return TrustOutcome.Unchanged;
            }
            Set(_trustedLists, user, new TrustedListRow(list.Version, key, list.ToByteArray()));
            if (isPeer)
            {
                if (!_peerIdentities.Rows.TryGetValue(user, out var account))
                {
                    Set(_peerIdentities, user, new PeerIdentityRow(key, null, false));
                }
                else if (!account.Key.AsSpan().SequenceEqual(key))
                {
                    Set(_peerIdentities, user, account with { Key = key, Changed = true });
                    _identityChanges.Enqueue(user);
                }
            }
            return TrustOutcome.Accepted;
        }
    }

    public byte[]? ListedIdentity(string user, uint device) =>
        TrustedList(user)?.Devices.FirstOrDefault(d => d.DeviceId == device)?.IdentityKey.ToByteArray();

    private sealed record TrustedListRow(ulong Version, byte[] AccountKey, byte[] List);
}
