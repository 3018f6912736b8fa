using Parley.Crypto.Keys;

namespace Parley.Crypto.Stores;

/// <summary>This device's identity and the remote identities it has seen (trust on first use by default).</summary>
public interface IIdentityKeyStore
{
    /// <summary>This device's identity key pair.</summary>
    IdentityKeyPair GetIdentityKeyPair();

    /// <summary>This device's registration id.</summary>
    uint GetLocalRegistrationId();

    /// <summary>Records <paramref name="identityKey"/> for <paramref name="address"/>; true when it replaced a different key.</summary>
    bool SaveIdentity(ProtocolAddress address, IdentityKey identityKey);

    /// <summary>Whether <paramref name="identityKey"/> may be used for <paramref name="address"/> in <paramref name="direction"/>.</summary>
    bool IsTrustedIdentity(ProtocolAddress address, IdentityKey identityKey, Direction direction);

    /// <summary>The identity last saved for <paramref name="address"/>, or null.</summary>
    IdentityKey? GetIdentity(ProtocolAddress address);
}
