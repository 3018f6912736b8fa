using Parley.Crypto.Keys;

namespace Parley.Crypto.Stores;

/// <summary>Identity store in memory with trust on first use: a known address is trusted only with the key saved for it.</summary>
public sealed class InMemoryIdentityKeyStore : IIdentityKeyStore
{
    private readonly IdentityKeyPair _identity;
    private readonly uint _registrationId;
    private readonly Dictionary<ProtocolAddress, IdentityKey> _known = [];
    private readonly Lock _gate = new();

    /// <summary>Creates a store for this device's identity and registration id.</summary>
    public InMemoryIdentityKeyStore(IdentityKeyPair identity, uint registrationId)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _identity = identity;
        _registrationId = registrationId;
    }

    /// <inheritdoc />
    public IdentityKeyPair GetIdentityKeyPair() => _identity;

    /// <inheritdoc />
    public uint GetLocalRegistrationId() => _registrationId;

    /// <inheritdoc />
    public bool SaveIdentity(ProtocolAddress address, IdentityKey identityKey)
    {
        lock (_gate)
        {
            bool replaced = _known.TryGetValue(address, out var existing) && existing != identityKey;
            _known[address] = identityKey;
            return replaced;
        }
    }

    /// <inheritdoc />
    public bool IsTrustedIdentity(ProtocolAddress address, IdentityKey identityKey, Direction direction)
    {
        lock (_gate)
        {
            return !_known.TryGetValue(address, out var existing) || existing == identityKey;
        }
    }

    /// <inheritdoc />
    public IdentityKey? GetIdentity(ProtocolAddress address)
    {
        lock (_gate)
        {
            return _known.GetValueOrDefault(address);
        }
    }
}
