using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// A user name as a person typed it. Names are lower case on the wire; a name typed with capitals
/// (<c>Alice</c>) is taken as its lower-case form (<c>alice</c>) with a note on stderr, since two
/// accounts can never differ only in case. Anything else that breaks the rules is refused with the
/// rules in plain words.
/// </summary>
internal static class TypedUserName
{
    /// <summary>The user name for <paramref name="typed"/>; false (after reporting a usage error) when there is none.</summary>
    public static bool TryRead(CliContext ctx, string typed, out string name)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(typed);
        name = typed.ToLowerInvariant();
        if (!UserName.IsValid(name))
        {
            ctx.Output.Error(ExitCodes.Usage, $"\"{typed}\" is not a user name: {UserName.Rules}", "usage");
            return false;
        }
        if (name != typed)
        {
            ctx.Output.Note($"parley: user names are lower case: using {name}");
        }
        return true;
    }
}
