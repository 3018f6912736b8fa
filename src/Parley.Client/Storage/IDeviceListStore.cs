using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Storage;

/// <summary>
/// Account identity and signed device lists in a client store: the account key (the pair on the
/// primary, the public half on every device), the list this primary signed last, and the verified
/// lists of every account this device talks to (its own included).
/// </summary>
internal interface IDeviceListStore
{
    /// <summary>The account identity key pair: only the primary device (the one that registered) holds it.</summary>
    IdentityKeyPair? AccountKeyPair();

    /// <summary>This account's identity public key (what safety numbers are made from), or null before it is known.</summary>
    IdentityKey? AccountPublicKey();

    /// <summary>Saves the account key: the pair on the primary, only the public half on a linked device.</summary>
    void SaveAccountKeys(IdentityKeyPair? pair, IdentityKey publicKey);

    /// <summary>A profile made before account keys takes its (shared) identity key as the account key; device 1 becomes the primary. Once only.</summary>
    void MigrateAccountKeys(uint deviceId);

    /// <summary>The list this primary signed last (published or not yet), or null.</summary>
    SignedDeviceList? OwnSignedList();

    /// <summary>Saves a list this primary signed (before publishing it, so a version is never signed twice).</summary>
    void SaveOwnSignedList(SignedDeviceList signed);

    /// <summary>The verified device list of <paramref name="user"/> trusted now, or null when none was seen.</summary>
    AccountDeviceList? TrustedList(string user);

    /// <summary>
    /// Takes a list whose signature was verified: a lower version under the known account key is
    /// refused; a peer's list under another account key is an identity change of that peer.
    /// </summary>
    TrustOutcome TrustList(string user, AccountDeviceList list, bool isPeer);

    /// <summary>The identity key the trusted list of <paramref name="user"/> gives <paramref name="device"/>, or null when it is not listed.</summary>
    byte[]? ListedIdentity(string user, uint device);
}
