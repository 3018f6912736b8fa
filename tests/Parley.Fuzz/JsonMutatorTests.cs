using Parley.Fuzz.Engine;

namespace Parley.Fuzz;

/// <summary>The harness's own JSON mutator, on inputs an earlier byte mutation can leave in the corpus.</summary>
public sealed class JsonMutatorTests
{
    [Fact]
    public void Json_with_invalid_utf8_in_a_name_or_string_is_mutated_as_bytes_instead_of_throwing()
    {
        // 0xF4 0x80 starts a four-byte sequence and is cut short: the parser accepts it and only
        // decoding the name (or the string) fails, which once threw out of a mutation.
        byte[][] inputs =
        [
            [.. "{\""u8, 0xF4, 0x80, .. "\":1}"u8],
            [.. "{\"user\":\""u8, 0xF4, 0x80, .. "\"}"u8],
            [.. "[{\"a\":[{\""u8, 0xF4, 0x80, .. "\":true}]}]"u8],
        ];
        for (int seed = 0; seed < 200; seed++)
        {
            var mutator = new Mutator(seed);
            foreach (var input in inputs)
            {
                Assert.NotNull(JsonMutator.Mutate(input, mutator, ["user", "password"]));
            }
        }
    }
}
