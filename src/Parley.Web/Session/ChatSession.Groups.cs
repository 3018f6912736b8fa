using Parley.Client;
using Parley.Client.Events;
using Parley.Client.Groups;
using Parley.Protocol;

namespace Parley.Web.Session;

// Groups: create, open, send, read, members (add, remove, promote and demote for admins), kept up to date by the
// SDK's GroupChanged event. A group chat is a Conversation whose Peer is '#' and the group id.
public sealed partial class ChatSession
{
    /// <summary>
    /// Creates a group titled <paramref name="title"/> with this user as admin and
    /// <paramref name="members"/> (user names separated by commas or spaces), then opens it.
    /// Returns what went wrong, in words for people, or null.
    /// </summary>
    public async Task<string?> CreateGroupAsync(string title, string members)
    {
        ArgumentNullException.ThrowIfNull(members);
        title = title?.Trim() ?? "";
        if (title.Length == 0)
        {
            return "Give the group a title.";
        }
        if (!GroupTitle.IsValid(title))
        {
            return $"Not a group title: {GroupTitle.Rules}.";
        }
        var users = members.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (users.FirstOrDefault(u => !UserName.IsValid(u)) is { } bad)
        {
            return $"\"{bad}\" is not a user name: {UserName.Rules}.";
        }
        if (_client is null || Connection != ConnectionState.Connected)
        {
            return "Groups are made on the server: wait until you are online.";
        }
        try
        {
            var info = await _client.CreateGroupAsync(title, users);
            ShowChat(GroupChat(info));
            return null;
        }
        catch (ParleyException e)
        {
            return e.Code == ErrorCode.UnknownUser ? $"Not every member exists: {e.Message}" : e.Message;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>Whether this user is an admin of the group <paramref name="chat"/> (may add and remove members).</summary>
    public bool IsAdmin(Conversation chat) =>
        chat?.Group is { } group && group.Members.Any(m => m.User == Me && m.IsAdmin);

    /// <summary>
    /// For one of our group messages, where each member stands, as "bob: Read · carol: Delivered"
    /// (a member with several devices: the device furthest behind); null for any other message.
    /// </summary>
    public string? MemberTicks(StoredMessage message)
    {
        if (_client is null || message is not { Direction: MessageDirection.Outgoing, GroupId: not null })
        {
            return null;
        }
        var members = _client.GetMemberReceipts(message.Id).GroupBy(r => r.User, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.Min(r => r.Status)}").ToList();
        return members.Count == 0 ? null : string.Join(" · ", members);
    }

    /// <summary>Adds <paramref name="user"/> to the open group (admins only); what went wrong, or null.</summary>
    public Task<string?> AddMemberAsync(string user) =>
        ChangeMembersAsync(user?.Trim() ?? "", (client, group, u) => client.AddGroupMemberAsync(group, u));

    /// <summary>Removes <paramref name="user"/> from the open group (admins only); what went wrong, or null.</summary>
    public Task<string?> RemoveMemberAsync(string user) =>
        ChangeMembersAsync(user ?? "", (client, group, u) => client.RemoveGroupMemberAsync(group, u));

    /// <summary>Makes <paramref name="user"/> an admin of the open group (admins only); what went wrong, or null.</summary>
    public Task<string?> PromoteMemberAsync(string user) =>
        ChangeMembersAsync(user ?? "", (client, group, u) => client.PromoteGroupMemberAsync(group, u));

    /// <summary>Takes the admin role from <paramref name="user"/> in the open group (admins only); what went wrong, or null.</summary>
    public Task<string?> DemoteMemberAsync(string user) =>
        ChangeMembersAsync(user ?? "", (client, group, u) => client.DemoteGroupMemberAsync(group, u));

    private async Task<string?> ChangeMembersAsync(string user, Func<ParleyClient, string, string, Task<GroupInfo>> change)
    {
        if (!UserName.IsValid(user))
        {
            return $"\"{user}\" is not a user name: {UserName.Rules}.";
        }
        if (_client is null || Open?.GroupId is not { } group || Connection != ConnectionState.Connected)
        {
            return "Members are changed on the server: wait until you are online.";
        }
        try
        {
            GroupChat(await change(_client, group, user));
            Notify();
            return null;
        }
        catch (ParleyException e)
        {
            return e.Message;
        }
    }

    /// <summary>Opens a group chat (by its conversation name) at its newest page; the view marks its messages read once shown.</summary>
    private Task<string?> OpenGroupAsync(string conversation)
    {
        var chat = Chat(conversation);
        chat.Group ??= _client?.FindGroup(conversation);
        ShowChat(chat);
        return Task.FromResult<string?>(null);
    }

    /// <summary>The chats of the groups this device knows (their summaries come with the others'; messages load on opening).</summary>
    private void LoadGroups(ParleyClient client)
    {
        foreach (var group in client.KnownGroups())
        {
            GroupChat(group);
        }
    }

    private void GroupChanged(GroupChangedEventArgs e)
    {
        GroupChat(e.Group);
        Notify();
    }

    private Conversation GroupChat(GroupInfo group)
    {
        var chat = Chat(GroupConversation.Prefix + group.Id);
        chat.Group = group;
        return chat;
    }
}
