using System.Buffers.Binary;

namespace Parley.Fuzz.Engine;

/// <summary>
/// Byte-level mutations in the style of libFuzzer's: bit flips, interesting values, inserts,
/// deletes, duplicated ranges, splices with another corpus entry. Deterministic for a given
/// seed, so a failing run can be replayed exactly.
/// </summary>
public sealed class Mutator(int seed)
{
    /// <summary>Inputs grow to at most this many bytes (the framing target adds its own headers).</summary>
    public const int MaxInputBytes = 4096;

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0x10, 0x20, 0x40];

    private static readonly ulong[] InterestingWords =
    [
        0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, ulong.MaxValue,
    ];

    /// <summary>The random source; targets use it for their own format-aware choices.</summary>
    public Random Random { get; } = new(seed);

    /// <summary>One of the boundary values fuzzers find bugs with (0, 1, 2^7, 2^15, 2^31, 2^63, max...).</summary>
    public ulong InterestingValue() => Random.Next(4) == 0 ? (ulong)Random.NextInt64() : InterestingWords[Random.Next(InterestingWords.Length)];

    /// <summary>1 to 4 stacked byte-level mutations of <paramref name="input"/>; <paramref name="other"/> feeds splices.</summary>
    public byte[] MutateBytes(byte[] input, byte[]? other = null)
    {
        var data = new List<byte>(input);
        for (int n = 1 + Random.Next(4); n > 0; n--)
        {
            MutateOnce(data, other);
        }
        if (data.Count > MaxInputBytes)
        {
            data.RemoveRange(MaxInputBytes, data.Count - MaxInputBytes);
        }
        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[]? other)
    {
        int op = Random.Next(11);
        if (data.Count == 0)
        {
            op = 8 + Random.Next(2); // only growing makes sense
        }
        switch (op)
        {
            case 0:
                data[Random.Next(data.Count)] ^= (byte)(1 << Random.Next(8));
                break;
            case 1:
                data[Random.Next(data.Count)] = (byte)Random.Next(256);
                break;
            case 2:
                data[Random.Next(data.Count)] = InterestingBytes[Random.Next(InterestingBytes.Length)];
                break;
            case 3:
            {
                int at = Random.Next(data.Count);
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + Random.Next(16)));
                break;
            }
            case 4:
            {
                int at = Random.Next(data.Count), length = Math.Min(data.Count - at, 1 + Random.Next(64));
                data.InsertRange(Random.Next(data.Count + 1), data.GetRange(at, length));
                break;
            }
            case 5:
            {
                // An interesting 2-, 4- or 8-byte value in either byte order: lengths, counts, ids.
                int width = 1 << (1 + Random.Next(3));
                Span<byte> word = stackalloc byte[8];
                if (Random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(word, InterestingValue());
                }
                else
                {
                    BinaryPrimitives.WriteUInt64BigEndian(word, InterestingValue() << (64 - (8 * width)));
                }
                int at = Random.Next(data.Count);
                for (int i = 0; i < width && at + i < data.Count; i++)
                {
                    data[at + i] = word[i];
                }
                break;
            }
            case 6:
            {
                int keep = Random.Next(data.Count);
                data.RemoveRange(keep, data.Count - keep);
                break;
            }
            case 7 when other is { Length: > 0 }:
            {
                // Splice: keep a prefix of this input and a suffix of another one.
                int cut = Random.Next(data.Count + 1), from = Random.Next(other.Length);
                data.RemoveRange(cut, data.Count - cut);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 8:
            {
                var extra = new byte[1 + Random.Next(32)];
                Random.NextBytes(extra);
                data.InsertRange(Random.Next(data.Count + 1), extra);
                break;
            }
            case 9:
                data.Add(InterestingBytes[Random.Next(InterestingBytes.Length)]);
                break;
            default:
            {
                int a = Random.Next(data.Count), b = Random.Next(data.Count);
                (data[a], data[b]) = (data[b], data[a]);
                break;
            }
        }
    }
}
