using System.Globalization;
using System.Text;

namespace Parley.Crypto.Fingerprints;

/// <summary>
/// The 60-digit safety number: 30 digits per party, each five-digit group taken from five hash
/// bytes (big-endian) mod 100,000, the two halves ordered so both parties print the same string.
/// </summary>
public sealed class DisplayableFingerprint
{
    private const int DigitsPerParty = 30;

    internal DisplayableFingerprint(ReadOnlySpan<byte> localHash, ReadOnlySpan<byte> remoteHash)
    {
        string local = Encode(localHash);
        string remote = Encode(remoteHash);
        Digits = string.CompareOrdinal(local, remote) < 0 ? local + remote : remote + local;
    }

    /// <summary>The 60 digits, without separators.</summary>
    public string Digits { get; }

    /// <summary>The 60 digits in twelve groups of five, separated by spaces, for people to read.</summary>
    public string Grouped()
    {
        var text = new StringBuilder(Digits.Length + Digits.Length / 5);
        for (int i = 0; i < Digits.Length; i += 5)
        {
            if (i > 0)
            {
                text.Append(' ');
            }

            text.Append(Digits, i, 5);
        }

        return text.ToString();
    }

    /// <summary>Returns <see cref="Digits"/>.</summary>
    public override string ToString() => Digits;

    private static string Encode(ReadOnlySpan<byte> hash)
    {
        var text = new StringBuilder(DigitsPerParty);
        for (int chunk = 0; chunk < 6; chunk++)
        {
            ulong value = 0;
            foreach (byte b in hash.Slice(chunk * 5, 5))
            {
                value = (value << 8) | b;
            }

            text.Append((value % 100_000).ToString("D5", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
