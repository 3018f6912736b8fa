using System.Text;

namespace Parley.Cli;

/// <summary>
/// Makes text from a peer safe to print on a terminal: a peer (or a forging server) must not be
/// able to move the cursor, clear the screen, set the window title or plant links with escape
/// sequences. C0 controls (except tab), DEL and C1 controls are dropped; a line break (\n, \r\n
/// or \r) becomes a visible "↵", so one message is one line and cannot fake lines of its own.
/// JSON output keeps the exact text: JSON escapes it.
/// </summary>
internal static class TerminalText
{
    /// <summary>Shown in place of each line break.</summary>
    public const char LineBreak = '↵';

    /// <summary>The printable form of <paramref name="text"/>; the same string when there is nothing to change.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = 0;
        while (first < text.Length && !IsControl(text[first]))
        {
            first++;
        }
        if (first == text.Length)
        {
            return text;
        }
        var result = new StringBuilder(text.Length).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\r' || c == '\n')
            {
                result.Append(LineBreak);
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (!IsControl(c))
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }

    private static bool IsControl(char c) => c != '\t' && (c < 0x20 || (c >= 0x7F && c <= 0x9F));
}
