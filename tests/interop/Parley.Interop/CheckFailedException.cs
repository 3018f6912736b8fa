namespace Parley.Interop;

/// <summary>A check saw something other than what libsignal compatibility requires.</summary>
internal sealed class CheckFailedException(string message) : Exception(message)
{
    public static void Unless(bool condition, string message)
    {
        if (!condition)
        {
            throw new CheckFailedException(message);
        }
    }

    public static void UnlessEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (!expected.SequenceEqual(actual))
        {
            throw new CheckFailedException($"{what} differ: expected {Convert.ToHexStringLower(expected)}, got {Convert.ToHexStringLower(actual)}");
        }
    }
}
