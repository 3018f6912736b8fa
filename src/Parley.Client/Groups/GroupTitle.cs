using System.Text;
using Parley.Protocol;

namespace Parley.Client.Groups;

/// <summary>
/// The rules for a group's title. Titles travel end to end encrypted, so the server cannot check
/// them: each member's device checks the title it sets and ignores one from a member that breaks
/// the rules, so no device shows a title that reads other than it is (<see cref="DisplayText"/>).
/// </summary>
public static class GroupTitle
{
    /// <summary>The longest title, in UTF-8 bytes (WhatsApp allows 100 characters; this leaves room for any script).</summary>
    public const int MaxBytes = 400;

    /// <summary>The rules in plain words, for error messages people read.</summary>
    public const string Rules = "a group title is 1 to 400 bytes (UTF-8), not only white space, without control characters or characters that change text direction";

    /// <summary>True when <paramref name="title"/> follows the rules.</summary>
    public static bool IsValid(string? title) =>
        !string.IsNullOrWhiteSpace(title) && Encoding.UTF8.GetByteCount(title) <= MaxBytes && DisplayText.IsSafe(title);
}
