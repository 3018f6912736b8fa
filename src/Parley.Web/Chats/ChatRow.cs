using Parley.Client;

namespace Parley.Web.Chats;

/// <summary>One row of a chat's virtualized list: a day separator or a message.</summary>
/// <param name="Day">The day a separator introduces (null for a message row).</param>
/// <param name="Message">The message (null for a separator row).</param>
public sealed record ChatRow(DateOnly? Day, StoredMessage? Message)
{
    /// <summary>The rows of <paramref name="messages"/>: a separator before the first message of each local day.</summary>
    public static List<ChatRow> Of(IReadOnlyList<StoredMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var rows = new List<ChatRow>(messages.Count + 8);
        DateOnly? day = null;
        foreach (var message in messages)
        {
            var local = DateOnly.FromDateTime(message.SentAt.ToLocalTime().DateTime);
            if (local != day)
            {
                rows.Add(new ChatRow(local, null));
                day = local;
            }
            rows.Add(new ChatRow(null, message));
        }
        return rows;
    }
}
