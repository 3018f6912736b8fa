using Parley.Fuzz.Targets;

namespace Parley.Fuzz;

/// <summary>Inputs the fuzzers found that once broke the property, kept as fixed regression cases.</summary>
public sealed class FindingTests
{
    [Fact]
    public async Task A_continuation_whose_64_bit_length_wraps_the_message_size_is_refused_as_too_big()
    {
        // A fragment of 5 bytes, then a continuation claiming 2^64-1 bytes: 5 + (2^64-1) wrapped
        // to 4, passed the size check, and the slice threw out of the reader.
        var input = Convert.FromHexString("02851F2E3D4C172F2F5815" + "00FFFFFFFFFFFFFFFFFF1F2E3D4C" + "00");
        var outcome = await new FramingTarget().ExecuteAsync(input, 0);
        Assert.StartsWith("Violation 1009 TooLarge", outcome, StringComparison.Ordinal);
    }
}
