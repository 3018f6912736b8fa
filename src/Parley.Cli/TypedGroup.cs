using Parley.Client;
using Parley.Client.Groups;

namespace Parley.Cli;

/// <summary>
/// A group as a person typed it: its id (32 hex characters, with or without <c>#</c>) or its title,
/// when exactly one group this device knows has that title (case-insensitive).
/// </summary>
internal static class TypedGroup
{
    /// <summary>The group id for <paramref name="typed"/>; throws <see cref="ArgumentException"/> (a usage error) when it names no group or several.</summary>
    public static string Resolve(ParleyClient client, string typed)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(typed);
        if (GroupConversation.ParseId(typed) is { } id)
        {
            return GroupConversation.IdText(id);
        }
        var matches = client.KnownGroups().Where(g => g.IsMember && string.Equals(g.Title, typed, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count switch
        {
            1 => matches[0].Id,
            0 => throw new ArgumentException($"no group \"{typed}\" on this device: give its id (see `parley groups`)"),
            _ => throw new ArgumentException($"{matches.Count} groups are called \"{typed}\": give the id instead ({string.Join(", ", matches.Select(g => g.Id))})"),
        };
    }

    /// <summary>The name to show for a group conversation: its title, or its id while the title is unknown.</summary>
    public static string Name(ParleyClient client, string conversation)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.FindGroup(conversation) is { Title.Length: > 0 } g ? g.Title : conversation;
    }
}
