namespace Parley.Protocol;

/// <summary>
/// Checks the names people give their devices, which the account's other devices and whoever
/// approves a link are shown: at most 64 characters, none of them a control character or one that
/// changes the direction text is shown in. A right-to-left override in "‮enohp s'ecila" shows it
/// as "alice's phone"; emoji sequences (zero-width joiners) stay allowed.
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
        if (name.Length > MaxLength)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (char.IsControl(c) || IsDirectionControl(c))
            {
                return false;
            }
        }
        return true;
    }

    // The Unicode bidirectional formatting characters: marks, embeddings, overrides and isolates.
    private static bool IsDirectionControl(char c) => c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
