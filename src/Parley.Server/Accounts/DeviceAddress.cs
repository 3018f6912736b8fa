namespace Parley.Server.Accounts;

/// <summary>One device of one account; <see cref="Key"/> packs both into the queue's storage key.</summary>
public readonly record struct DeviceAddress(long AccountId, uint DeviceId)
{
    /// <summary>Device ids stay below 2^16, so the pair packs into one 64-bit key.</summary>
    public long Key => (AccountId << 16) | DeviceId;
}
