namespace Parley.Crypto;

/// <summary>One device of one account: sessions and identities are keyed by this pair.</summary>
/// <param name="Name">The account name (user id) of the remote party.</param>
/// <param name="DeviceId">The device number within that account.</param>
public sealed record ProtocolAddress(string Name, uint DeviceId)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}.{DeviceId}";
}
