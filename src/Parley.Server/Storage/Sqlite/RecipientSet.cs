namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// The device set of a fan-out envelope as stored: the device keys in ascending order, each as the
/// varint of its distance from the one before. Keys are account &lt;&lt; 16 | device, so a member
/// after the previous one costs 3 bytes (a few more only where account ids are far apart), and a
/// second device of the same account one.
/// </summary>
internal static class RecipientSet
{
    /// <summary>The most bytes <paramref name="count"/> keys can take.</summary>
    public static int MaxBytes(int count) => count * 10;

    /// <summary>Writes ascending non-negative keys; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<long> sortedKeys, Span<byte> into)
    {
        int at = 0;
        long previous = 0;
        foreach (var key in sortedKeys)
        {
            ulong value = (ulong)(key - previous);
            previous = key;
            while (value >= 0x80)
            {
                into[at++] = (byte)(value | 0x80);
                value >>= 7;
            }
            into[at++] = (byte)value;
        }
        return at;
    }

    /// <summary>Reads the keys of a stored set into <paramref name="into"/> (cleared first).</summary>
    public static void Read(ReadOnlySpan<byte> blob, List<long> into)
    {
        into.Clear();
        long previous = 0;
        int at = 0;
        while (at < blob.Length)
        {
            ulong value = 0;
            int shift = 0;
            byte b;
            do
            {
                b = blob[at++];
                value |= (ulong)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0 && at < blob.Length && shift < 64);
            previous += (long)value;
            into.Add(previous);
        }
    }
}
