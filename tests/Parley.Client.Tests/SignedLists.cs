using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>Makes signed device lists as a primary (or a forger with another key) would.</summary>
internal static class SignedLists
{
    public static SignedDeviceList Sign(IdentityKeyPair accountKey, string user, ulong version, params (uint Id, IdentityKey Key)[] devices)
    {
        var list = new AccountDeviceList { User = user, Version = version, AccountKey = ByteString.CopyFrom(accountKey.IdentityKey.Serialize()) };
        list.Devices.AddRange(devices.Select(d => new ListedDevice { DeviceId = d.Id, IdentityKey = ByteString.CopyFrom(d.Key.Serialize()), AddedAt = 1 }));
        var bytes = list.ToByteString();
        return new SignedDeviceList { List = bytes, Signature = ByteString.CopyFrom(accountKey.CalculateSignature(DeviceListSigning.SignedBytes(bytes))) };
    }

    public static AccountDeviceList Verified(SignedDeviceList signed, string user) =>
        ParleyClient.VerifiedList(user, signed) ?? throw new InvalidOperationException("the list does not verify");
}
