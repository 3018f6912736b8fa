namespace Parley.Protocol;

/// <summary>Checks user names: 3–32 characters of a-z, 0-9, '_', '.', '-', starting with a letter.</summary>
public static class UserName
{
    /// <summary>The rules in plain words, for error messages people read.</summary>
    public const string Rules = "a user name is 3 to 32 characters: lowercase letters a-z, digits 0-9, '_', '.' or '-', starting with a letter";

    /// <summary>True when <paramref name="name"/> is a well-formed user name.</summary>
    public static bool IsValid(string? name)
    {
        if (name is null || name.Length < 3 || name.Length > WireLimits.MaxUserNameLength || name[0] is < 'a' or > 'z')
        {
            return false;
        }
        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}
