namespace Parley.Fuzz.Engine;

/// <summary>
/// Structure-aware mutations of protobuf wire bytes: the input is split into fields (number, wire
/// type, value), and whole fields are dropped, repeated, reordered, renumbered, given boundary
/// varints, lying lengths or the wrong wire type, or mutated recursively as nested messages.
/// What does not parse as protobuf gets byte-level mutations instead.
/// </summary>
public static class ProtoMutator
{
    private const int MaxDepth = 4;

    private sealed record Field(uint Number, int WireType, ulong Value, byte[] Bytes)
    {
        public int LengthLie { get; init; }
    }

    /// <summary>A mutated copy of <paramref name="input"/>; <paramref name="other"/> (another corpus entry) feeds splices.</summary>
    public static byte[] Mutate(byte[] input, Mutator mutator, byte[]? other = null) => Mutate(input, mutator, other, 0);

    private static byte[] Mutate(byte[] input, Mutator mutator, byte[]? other, int depth)
    {
        var random = mutator.Random;
        if (random.Next(6) == 0 || !TryParse(input, out var fields))
        {
            return mutator.MutateBytes(input, other);
        }
        for (int n = 1 + random.Next(3); n > 0; n--)
        {
            MutateOnce(fields, mutator, other, depth);
        }
        var bytes = Serialize(fields);
        return bytes.Length > Mutator.MaxInputBytes ? bytes[..Mutator.MaxInputBytes] : bytes;
    }

    private static void MutateOnce(List<Field> fields, Mutator mutator, byte[]? other, int depth)
    {
        var random = mutator.Random;
        int op = random.Next(11);
        if (fields.Count == 0)
        {
            op = 8;
        }
        int i = fields.Count == 0 ? 0 : random.Next(fields.Count);
        switch (op)
        {
            case 0:
                fields.RemoveAt(i);
                break;
            case 1:
                fields.Insert(random.Next(fields.Count + 1), fields[i]);
                break;
            case 2:
            {
                int j = random.Next(fields.Count);
                (fields[i], fields[j]) = (fields[j], fields[i]);
                break;
            }
            case 3:
                fields[i] = fields[i].WireType switch
                {
                    0 => fields[i] with { Value = mutator.InterestingValue() },
                    1 or 5 => fields[i] with { Value = mutator.InterestingValue() },
                    _ => fields[i] with { Bytes = mutator.MutateBytes(fields[i].Bytes) },
                };
                break;
            case 4 when fields[i].WireType == 2:
                fields[i] = fields[i] with
                {
                    Bytes = depth < MaxDepth && random.Next(3) > 0
                        ? Mutate(fields[i].Bytes, mutator, null, depth + 1)
                        : mutator.MutateBytes(fields[i].Bytes),
                };
                break;
            case 5 when fields[i].WireType == 2:
                fields[i] = fields[i] with { Bytes = RandomBytes(random, random.Next(4) == 0 ? random.Next(3000) : random.Next(40)) };
                break;
            case 6:
                fields[i] = fields[i] with { Number = random.Next(8) == 0 ? (uint)random.Next(1, 1 << 29) : (uint)random.Next(0, 20) };
                break;
            case 7:
                fields[i] = fields[i] with { WireType = random.Next(6) };
                break;
            case 8:
                fields.Insert(random.Next(fields.Count + 1), NewField(mutator));
                break;
            case 9 when fields[i].WireType == 2:
                fields[i] = fields[i] with { LengthLie = random.Next(3) == 0 ? int.MaxValue : random.Next(-3, 4) };
                break;
            default:
                if (other is not null && TryParse(other, out var donor) && donor.Count > 0)
                {
                    fields.Insert(random.Next(fields.Count + 1), donor[random.Next(donor.Count)]);
                }
                else
                {
                    fields[i] = fields[i] with { Value = mutator.InterestingValue() };
                }
                break;
        }
    }

    private static Field NewField(Mutator mutator)
    {
        var random = mutator.Random;
        uint number = (uint)random.Next(1, 20);
        return random.Next(4) switch
        {
            0 => new Field(number, 0, mutator.InterestingValue(), []),
            1 => new Field(number, 5, mutator.InterestingValue(), []),
            2 => new Field(number, 1, mutator.InterestingValue(), []),
            _ => new Field(number, 2, 0, RandomBytes(random, random.Next(64))),
        };
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static bool TryParse(byte[] data, out List<Field> fields)
    {
        fields = [];
        int at = 0;
        while (at < data.Length)
        {
            if (!TryReadVarint(data, ref at, out ulong tag) || tag >> 3 is 0 or > uint.MaxValue)
            {
                return false;
            }
            uint number = (uint)(tag >> 3);
            int wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    if (!TryReadVarint(data, ref at, out ulong value))
                    {
                        return false;
                    }
                    fields.Add(new Field(number, 0, value, []));
                    break;
                case 1 or 5:
                    int width = wire == 1 ? 8 : 4;
                    if (at + width > data.Length)
                    {
                        return false;
                    }
                    ulong fixedValue = 0;
                    for (int k = width - 1; k >= 0; k--)
                    {
                        fixedValue = (fixedValue << 8) | data[at + k];
                    }
                    at += width;
                    fields.Add(new Field(number, wire, fixedValue, []));
                    break;
                case 2:
                    if (!TryReadVarint(data, ref at, out ulong length) || length > (ulong)(data.Length - at))
                    {
                        return false;
                    }
                    fields.Add(new Field(number, 2, 0, data.AsSpan(at, (int)length).ToArray()));
                    at += (int)length;
                    break;
                default:
                    return false; // groups (3, 4) and invalid types: leave to byte mutations
            }
        }
        return true;
    }

    private static byte[] Serialize(List<Field> fields)
    {
        var output = new List<byte>();
        foreach (var field in fields)
        {
            WriteVarint(output, ((ulong)field.Number << 3) | (uint)field.WireType);
            switch (field.WireType)
            {
                case 0:
                    WriteVarint(output, field.Value);
                    break;
                case 1 or 5:
                    for (int k = 0; k < (field.WireType == 1 ? 8 : 4); k++)
                    {
                        output.Add((byte)(field.Value >> (8 * k)));
                    }
                    break;
                case 2:
                    ulong length = field.LengthLie == int.MaxValue ? ulong.MaxValue >> 1 : (ulong)Math.Max(0, field.Bytes.Length + field.LengthLie);
                    WriteVarint(output, length);
                    output.AddRange(field.Bytes);
                    break;
                default:
                    output.AddRange(field.Bytes); // a wrong wire type: the bytes follow as they are
                    break;
            }
        }
        return [.. output];
    }

    private static bool TryReadVarint(byte[] data, ref int at, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < data.Length; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }

    private static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}
