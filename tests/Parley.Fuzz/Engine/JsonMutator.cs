using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Parley.Fuzz.Engine;

/// <summary>
/// Structure-aware mutations of JSON bodies: values swapped for boundary values of another type
/// (null, huge numbers, long or odd strings, nested containers), keys dropped, renamed to another
/// known key or repeated, the document wrapped or nested deeply. Text that is not JSON gets
/// byte-level mutations instead.
/// </summary>
public static class JsonMutator
{
    private static readonly string[] OddStrings =
    [
        "", " ", "a", "ab", "alice", "bob", "Alice", "a-b.c_d", "1abc", "\u0000", "\t\r\n", "\ud800", "\u202e", "é",
        "..", "../../etc", "%00", "null", "0", "-1", "99999999999999999999", "a.1:pw", "\u00ff\u00fe",
    ];

    /// <summary>A mutated copy of the UTF-8 JSON <paramref name="input"/>, using <paramref name="keys"/> as the known property names.</summary>
    public static byte[] Mutate(byte[] input, Mutator mutator, IReadOnlyList<string> keys)
    {
        var random = mutator.Random;
        JsonNode? root;
        try
        {
            root = random.Next(6) == 0 ? null : JsonNode.Parse(input);
            // The node is read lazily: an earlier mutation's invalid UTF-8 in a name or string
            // only shows when it is read, so read it all here, not in the middle of a mutation.
            ReadWhole(root);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            root = null;
        }
        if (root is null)
        {
            return mutator.MutateBytes(input);
        }
        for (int n = 1 + random.Next(3); n > 0; n--)
        {
            root = MutateOnce(root, mutator, keys);
        }
        var text = root.ToJsonString();
        if (random.Next(12) == 0)
        {
            // Deep nesting, past the reader's depth limit at times: written as text, the node writer has its own limit.
            int depth = random.Next(1, 300);
            text = new string('[', depth) + text + new string(']', depth);
        }
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Reads every name and string of a parsed node (each is decoded on first read), throwing here if one is not valid UTF-8.</summary>
    private static void ReadWhole(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var property in obj)
                {
                    ReadWhole(property.Value);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    ReadWhole(item);
                }
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                _ = value.GetValue<string>();
                break;
        }
    }

    private static JsonNode MutateOnce(JsonNode root, Mutator mutator, IReadOnlyList<string> keys)
    {
        var random = mutator.Random;
        if (root is not JsonObject obj || random.Next(10) == 0)
        {
            return random.Next(2) == 0
                ? new JsonArray(root.DeepClone())
                : new JsonObject { [keys[random.Next(keys.Count)]] = OddValue(mutator) };
        }
        var names = obj.Select(p => p.Key).ToList();
        switch (random.Next(5))
        {
            case 0 when names.Count > 0:
                obj.Remove(names[random.Next(names.Count)]);
                break;
            case 1:
                obj[keys[random.Next(keys.Count)]] = OddValue(mutator);
                break;
            case 2 when names.Count > 0:
            {
                var name = names[random.Next(names.Count)];
                var value = obj[name]?.DeepClone();
                obj.Remove(name);
                obj[random.Next(2) == 0 ? name.ToUpperInvariant() : keys[random.Next(keys.Count)]] = value;
                break;
            }
            case 3:
                obj["unknown_" + random.Next(5)] = OddValue(mutator);
                break;
            default:
                if (names.Count > 0)
                {
                    obj[names[random.Next(names.Count)]] = OddValue(mutator);
                }
                break;
        }
        return obj;
    }

    private static JsonNode? OddValue(Mutator mutator)
    {
        var random = mutator.Random;
        return random.Next(10) switch
        {
            0 => null,
            1 => JsonValue.Create(random.Next(2) == 0),
            2 => JsonValue.Create((long)mutator.InterestingValue()),
            3 => JsonValue.Create(random.Next(2) == 0 ? double.MaxValue : -0.0),
            4 => new JsonArray(JsonValue.Create(OddStrings[random.Next(OddStrings.Length)])),
            5 => new JsonObject { ["x"] = 1 },
            6 => JsonValue.Create(new string((char)random.Next(32, 127), random.Next(2) == 0 ? random.Next(20, 80) : random.Next(1000, 20000))),
            7 or 8 => JsonValue.Create(FreshString(random)),
            _ => JsonValue.Create(OddStrings[random.Next(OddStrings.Length)]),
        };
    }

    /// <summary>A new string of name-like characters (and now and then others): new user names get past "taken" to the write path.</summary>
    private static string FreshString(Random random)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
        var chars = new char[random.Next(1, 40)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = random.Next(20) == 0 ? (char)random.Next(0, 0x3000) : Alphabet[random.Next(i == 0 ? 26 : Alphabet.Length)];
        }
        return new string(chars);
    }
}
