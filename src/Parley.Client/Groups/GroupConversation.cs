using System.Globalization;

namespace Parley.Client.Groups;

/// <summary>
/// The name of a group's conversation in the local store and in <see cref="StoredMessage.Peer"/>:
/// <c>#</c> and the group id in hex. No user name can start with <c>#</c>, so a group conversation
/// never mixes with a 1:1 one.
/// </summary>
public static class GroupConversation
{
    /// <summary>The first character of every group conversation name.</summary>
    public const char Prefix = '#';

    /// <summary>Bytes in a group id.</summary>
    public const int IdBytes = 16;

    /// <summary>The conversation name of the group with this id.</summary>
    public static string Of(ReadOnlySpan<byte> groupId) => Prefix + IdText(groupId);

    /// <summary>A group id as text: 32 lower-case hex characters.</summary>
    public static string IdText(ReadOnlySpan<byte> groupId) => Convert.ToHexStringLower(groupId);

    /// <summary>True when <paramref name="peer"/> names a group conversation.</summary>
    public static bool IsGroup(string? peer) => peer is { Length: 1 + 2 * IdBytes } && peer[0] == Prefix && ParseId(peer[1..]) is not null;

    /// <summary>The group id of a group conversation name or of a group id in hex (with or without <c>#</c>); null when it is neither.</summary>
    public static byte[]? ParseId(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var hex = text.StartsWith(Prefix) ? text[1..] : text;
        if (hex.Length != 2 * IdBytes || !hex.All(char.IsAsciiHexDigit))
        {
            return null;
        }
        return Convert.FromHexString(hex.ToLower(CultureInfo.InvariantCulture));
    }
}
