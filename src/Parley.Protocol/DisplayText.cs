namespace Parley.Protocol;

/// <summary>
/// Whether a short label someone else chose (a device name, a group title) can be shown as it is:
/// no control characters (a line break or an escape sequence) and none of the Unicode characters
/// that change the direction text is shown in. A right-to-left override in "‮enohp s'ecila" shows
/// it as "alice's phone". Message text is not checked this way: right-to-left writing needs marks.
/// </summary>
public static class DisplayText
{
    /// <summary>True when <paramref name="text"/> holds no control and no direction-changing character.</summary>
    public static bool IsSafe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
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
