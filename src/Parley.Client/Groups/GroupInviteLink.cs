using System.Buffers.Text;

namespace Parley.Client.Groups;

/// <summary>
/// A group invite link as text: <c>parley://join/</c>, the group id in hex, <c>/</c>, and the
/// link's 32-byte secret in base64url. Whoever holds it can join (or ask to); the server keeps
/// only a hash of the secret.
/// </summary>
public static class GroupInviteLink
{
    /// <summary>What every link starts with.</summary>
    public const string Scheme = "parley://join/";

    /// <summary>Bytes of a link's secret.</summary>
    public const int SecretBytes = 32;

    /// <summary>The link for this group id and secret.</summary>
    public static string Format(ReadOnlySpan<byte> groupId, ReadOnlySpan<byte> secret) =>
        Scheme + GroupConversation.IdText(groupId) + "/" + Base64Url.EncodeToString(secret);

    /// <summary>The group id and secret of a link; false when <paramref name="link"/> is not one.</summary>
    public static bool TryParse(string? link, out byte[] groupId, out byte[] secret)
    {
        groupId = [];
        secret = [];
        if (link is null || !link.Trim().StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var parts = link.Trim()[Scheme.Length..].Split('/');
        if (parts.Length != 2 || GroupConversation.ParseId(parts[0]) is not { } id || !Base64Url.IsValid(parts[1]))
        {
            return false;
        }
        var bytes = Base64Url.DecodeFromChars(parts[1]);
        if (bytes.Length != SecretBytes)
        {
            return false;
        }
        (groupId, secret) = (id, bytes);
        return true;
    }
}
