using Google.Protobuf;

namespace Parley.Protocol;

/// <summary>
/// What an account identity key signs for a device list: a fixed context prefix followed by the
/// serialized <see cref="AccountDeviceList"/>. The prefix keeps a list signature from ever being
/// valid as a signature of anything else the same key signs.
/// </summary>
public static class DeviceListSigning
{
    private static readonly byte[] Context = "ParleyDeviceList\0"u8.ToArray();

    /// <summary>The exact bytes the account key signs (and a verifier checks) for <paramref name="list"/>'s serialized form.</summary>
    public static byte[] SignedBytes(ByteString list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var bytes = new byte[Context.Length + list.Length];
        Context.CopyTo(bytes, 0);
        list.Span.CopyTo(bytes.AsSpan(Context.Length));
        return bytes;
    }
}
