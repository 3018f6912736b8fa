using Google.Protobuf;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Server.Accounts;

/// <summary>
/// What the server checks before it stores a signed device list. The server cannot make a list
/// (it has no account key); these checks only stop a device of the account, or a broken client,
/// from replacing a good list with garbage, an older one or one signed by another key.
/// </summary>
public static class DeviceListRules
{
    /// <summary>Parses a stored list without checks (it was checked when published); null when it no longer parses.</summary>
    public static PublishedDeviceList? Parse(byte[] stored)
    {
        try
        {
            var signed = SignedDeviceList.Parser.ParseFrom(stored);
            var list = AccountDeviceList.Parser.ParseFrom(signed.List);
            return new PublishedDeviceList(list.Version, list.AccountKey.ToByteArray(), signed);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks <paramref name="signed"/> as the next list of <paramref name="account"/>: size, the
    /// account's user, a higher version under the same account key, known device ids, and a
    /// valid signature. Returns the list to store, or the problem in words.
    /// </summary>
    public static (PublishedDeviceList? List, string? Problem) Check(Account account, SignedDeviceList signed)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (signed is null || signed.CalculateSize() > WireLimits.MaxSignedDeviceListBytes)
        {
            return (null, $"signed: a list of at most {WireLimits.MaxSignedDeviceListBytes} bytes");
        }
        AccountDeviceList list;
        try
        {
            list = AccountDeviceList.Parser.ParseFrom(signed.List);
        }
        catch (InvalidProtocolBufferException)
        {
            return (null, "signed.list: not an AccountDeviceList");
        }
        if (list.User != account.User)
        {
            return (null, "the list is for another account");
        }
        if (list.Devices.Count == 0 || list.Devices.Count > WireLimits.MaxListedDevices
            || list.Devices.Select(d => d.DeviceId).Distinct().Count() != list.Devices.Count)
        {
            return (null, $"the list must name 1 to {WireLimits.MaxListedDevices} distinct devices");
        }
        if (list.Devices.Any(d => account.FindDevice(d.DeviceId) is null || d.IdentityKey.Length != EcPublicKey.SerializedLength))
        {
            return (null, "the list names a device this account does not have, or a malformed identity key");
        }
        // A list under a new account key is a re-registration of the account's identity: accepted
        // (every contact's client warns of it, as for any identity change); under the same key the
        // version must grow, so nobody can put back an older list.
        var current = account.DeviceList;
        if (current is not null && list.AccountKey.Span.SequenceEqual(current.AccountKey) && list.Version <= current.Version)
        {
            return (null, $"version {list.Version} is not above the current {current.Version}");
        }
        try
        {
            var key = IdentityKey.Deserialize(list.AccountKey.Span);
            if (signed.Signature.Length != 64 || !key.VerifySignature(DeviceListSigning.SignedBytes(signed.List), signed.Signature.Span))
            {
                return (null, "the signature does not verify with the list's account key");
            }
        }
        catch (CryptoException)
        {
            return (null, "account_key: a 33-byte Curve25519 public key");
        }
        return (new PublishedDeviceList(list.Version, list.AccountKey.ToByteArray(), signed), null);
    }
}
