using System.Security.Cryptography;
using Parley.Crypto;
using Parley.Crypto.Keys;

namespace Parley.Client.Devices;

/// <summary>
/// A link code: the relay channel id (16 bytes) and the new device's ephemeral public key (33
/// bytes), base64url, 66 characters. The key travels only in the code (shown on the new device,
/// typed or scanned on the approving one), so the relay cannot swap in a key of its own.
/// </summary>
internal sealed record LinkCode(string Channel, EcPublicKey EphemeralKey)
{
    private const int ChannelBytes = 16;

    /// <summary>The code's text form.</summary>
    public override string ToString() =>
        Base64Url([.. Convert.FromBase64String(ToStandard(Channel)), .. EphemeralKey.Serialize()]);

    /// <summary>The fingerprint both devices show: the first 10 bytes of SHA-256 of the ephemeral key, as 5 groups of 4 hex digits.</summary>
    public string Fingerprint => FingerprintOf(EphemeralKey);

    /// <summary>The fingerprint of an ephemeral key (see <see cref="Fingerprint"/>).</summary>
    public static string FingerprintOf(EcPublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hex = Convert.ToHexStringLower(SHA256.HashData(key.Serialize()).AsSpan(0, 10));
        return string.Join(' ', Enumerable.Range(0, 5).Select(i => hex.Substring(i * 4, 4)));
    }

    /// <summary>Parses a code; null when it is not one (wrong length, characters or key).</summary>
    public static LinkCode? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(ToStandard(text.Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        if (bytes.Length != ChannelBytes + EcPublicKey.SerializedLength)
        {
            return null;
        }
        try
        {
            return new LinkCode(Base64Url(bytes[..ChannelBytes]), EcPublicKey.Deserialize(bytes.AsSpan(ChannelBytes)));
        }
        catch (CryptoException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string ToStandard(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
    }
}
