using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Storage;

// Account identity and signed device lists: the account key pair (on the primary), the account's
// public key (on every device), the list this primary signed last, and the verified lists of
// every account this device talks to (its own included).
internal sealed partial class ClientStore
{
    private void CreateDeviceTables() => Execute("""
        CREATE TABLE IF NOT EXISTS trusted_device_lists (user TEXT PRIMARY KEY, version INTEGER NOT NULL, account_key BLOB NOT NULL, list BLOB NOT NULL);
        """);

    /// <summary>The account identity key pair: only the primary device (the one that registered) holds it.</summary>
    public IdentityKeyPair? AccountKeyPair()
    {
        lock (_gate)
        {
            return GetConfig("account_key_pair") is { } text ? IdentityKeyPair.Deserialize(Convert.FromBase64String(text)) : null;
        }
    }

    /// <summary>This account's identity public key (what safety numbers are made from), or null before it is known.</summary>
    public IdentityKey? AccountPublicKey()
    {
        lock (_gate)
        {
            return GetConfig("account_public_key") is { } text ? IdentityKey.Deserialize(Convert.FromBase64String(text)) : null;
        }
    }

    /// <summary>Saves the account key: the pair on the primary, only the public half on a linked device.</summary>
    public void SaveAccountKeys(IdentityKeyPair? pair, IdentityKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            if (pair is not null)
            {
                SetConfig(tx, "account_key_pair", Convert.ToBase64String(pair.Serialize()));
            }
            SetConfig(tx, "account_public_key", Convert.ToBase64String(publicKey.Serialize()));
            tx.Commit();
        }
    }

    /// <summary>
    /// A profile made before account keys: every device of the account shared one identity key, so
    /// that key becomes the account key (safety numbers stay as they were), and device 1, which made
    /// it, becomes the primary. Does nothing for a profile that has an account key or no identity yet.
    /// </summary>
    public void MigrateAccountKeys(uint deviceId)
    {
        lock (_gate)
        {
            if (GetConfig("account_public_key") is not null || GetConfig("identity_key_pair") is not { } identity)
            {
                return;
            }
            var pair = IdentityKeyPair.Deserialize(Convert.FromBase64String(identity));
            using var tx = _db.BeginTransaction();
            if (deviceId == 1)
            {
                SetConfig(tx, "account_key_pair", identity);
            }
            SetConfig(tx, "account_public_key", Convert.ToBase64String(pair.IdentityKey.Serialize()));
            tx.Commit();
        }
    }

    /// <summary>The list this primary signed last (published or not yet), or null.</summary>
    public SignedDeviceList? OwnSignedList()
    {
        lock (_gate)
        {
            return GetConfig("own_signed_list") is { } text ? SignedDeviceList.Parser.ParseFrom(Convert.FromBase64String(text)) : null;
        }
    }

    /// <summary>Saves a list this primary signed (before publishing it, so a crash cannot reuse its version).</summary>
    public void SaveOwnSignedList(SignedDeviceList signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            SetConfig(tx, "own_signed_list", Convert.ToBase64String(signed.ToByteArray()));
            tx.Commit();
        }
    }

    /// <summary>The verified device list of <paramref name="user"/> this device trusts now, or null when none was seen.</summary>
    public AccountDeviceList? TrustedList(string user)
    {
        lock (_gate)
        {
            return Scalar("SELECT list FROM trusted_device_lists WHERE user = $user", ("$user", user)) is byte[] list
                ? AccountDeviceList.Parser.ParseFrom(list)
                : null;
        }
    }

    /// <summary>
    /// Takes a list whose signature was verified: under the account key known for the user, a lower
    /// version is refused (<see cref="TrustOutcome.RolledBack"/>); a list under another account key
    /// is an identity change of a peer (announced, and a verified peer is blocked until accepted).
    /// For this device's own account the caller checks the key against its own account key.
    /// </summary>
    public TrustOutcome TrustList(string user, AccountDeviceList list, bool isPeer)
    {
        ArgumentNullException.ThrowIfNull(list);
        var key = list.AccountKey.ToByteArray();
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT version, account_key FROM trusted_device_lists WHERE user = $user";
            cmd.Parameters.AddWithValue("$user", user);
            ulong? version = null;
            byte[]? knownKey = null;
            using (var r = cmd.ExecuteReader())
            {
                if (r.Read())
                {
                    version = (ulong)r.GetInt64(0);
                    knownKey = (byte[])r[1];
                }
            }
            var sameKey = knownKey is not null && knownKey.AsSpan().SequenceEqual(key);
            if (sameKey && list.Version < version)
            {
                return TrustOutcome.RolledBack;
            }
            if (sameKey && list.Version == version)
            {
                return TrustOutcome.Unchanged;
            }
            using var tx = _db.BeginTransaction();
            Execute(tx, """
                INSERT INTO trusted_device_lists (user, version, account_key, list) VALUES ($user, $version, $key, $list)
                ON CONFLICT (user) DO UPDATE SET version = excluded.version, account_key = excluded.account_key, list = excluded.list
                """, ("$user", user), ("$version", (long)list.Version), ("$key", key), ("$list", list.ToByteArray()));
            if (isPeer)
            {
                var account = Scalar("SELECT key FROM peer_identities WHERE user = $user", ("$user", user)) as byte[];
                if (account is null)
                {
                    Execute(tx, "INSERT INTO peer_identities (user, key) VALUES ($user, $key)", ("$user", user), ("$key", key));
                }
                else if (!account.AsSpan().SequenceEqual(key))
                {
                    Execute(tx, "UPDATE peer_identities SET key = $key, changed = 1 WHERE user = $user", ("$user", user), ("$key", key));
                    _identityChanges.Enqueue(user);
                }
            }
            tx.Commit();
            return TrustOutcome.Accepted;
        }
    }

    /// <summary>The identity key the trusted list of <paramref name="user"/> gives <paramref name="device"/>, or null when it is not listed.</summary>
    public byte[]? ListedIdentity(string user, uint device) =>
        TrustedList(user)?.Devices.FirstOrDefault(d => d.DeviceId == device)?.IdentityKey.ToByteArray();
}
