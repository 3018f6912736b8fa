using System.Security.Cryptography;

namespace Parley.Protocol;

/// <summary>Message ids are 16-byte UUIDv7 values: unique, and roughly ordered by creation time.</summary>
public static class MessageId
{
    /// <summary>Makes a new UUIDv7 as 16 big-endian bytes.</summary>
    public static byte[] New(TimeProvider? time = null)
    {
        var id = new byte[16];
        long ms = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 6; i++)
        {
            id[i] = (byte)(ms >> (8 * (5 - i)));
        }
        RandomNumberGenerator.Fill(id.AsSpan(6));
        id[6] = (byte)(0x70 | (id[6] & 0x0F)); // version 7
        id[8] = (byte)(0x80 | (id[8] & 0x3F)); // RFC 9562 variant
        return id;
    }

    /// <summary>The canonical text form (lower-case hex with dashes) of a 16-byte id.</summary>
    public static string ToText(ReadOnlySpan<byte> id)
    {
        if (id.Length != 16)
        {
            return Convert.ToHexStringLower(id);
        }
        var hex = Convert.ToHexStringLower(id);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>Parses the text form (with or without dashes); null when it is not a 16-byte id.</summary>
    public static byte[]? Parse(string text)
    {
        var hex = text.Replace("-", "", StringComparison.Ordinal);
        if (hex.Length != 32)
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
