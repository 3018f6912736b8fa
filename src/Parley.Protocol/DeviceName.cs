namespace Parley.Protocol;

/// <summary>
/// Checks the names people give their devices, which the account's other devices and whoever
/// approves a link are shown: at most 64 characters, safe to show as they are
/// (<see cref="DisplayText"/>); emoji sequences (zero-width joiners) stay allowed.
/// </summary>
public static class DeviceName
{
    /// <summary>Longest device name, in UTF-16 characters.</summary>
    public const int MaxLength = 64;

    /// <summary>The rules in plain words, for error messages people read.</summary>
    public const string Rules = "a device name is at most 64 characters, without control characters or characters that change text direction";

    /// <summary>True when <paramref name="name"/> is a well-formed device name, or none was given (null).</summary>
    public static bool IsValid(string? name)
    {
        if (name is null)
        {
            return true;
        }
        return name.Length <= MaxLength && DisplayText.IsSafe(name);
    }
}
