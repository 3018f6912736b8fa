using Parley.Client;

namespace Parley.Web.Chats;

/// <summary>One row of a chat's virtualized list: a day separator, a message, or the place where older messages load.</summary>
/// <param name="Day">The day a separator introduces (null for the other rows).</param>
/// <param name="Message">The message (null for the other rows).</param>
public sealed record ChatRow(DateOnly? Day, StoredMessage? Message)
{
    // Every time zone's offset, and every change of one, is a multiple of 15 minutes: a message's local
    // day is that of its quarter hour, so a chat converts each quarter hour once, not each message.
    private const long QuarterHour = 15 * 60;

    /// <summary>The first row when the store holds older messages than those loaded: shown, it loads them.</summary>
    public static ChatRow Older { get; } = new(null, null);

    /// <summary>Whether this is the <see cref="Older"/> row.</summary>
    public bool IsOlder => Day is null && Message is null;

    /// <summary>
    /// The rows of <paramref name="messages"/> (oldest first): a separator before the first message of
    /// each local day, after the <see cref="Older"/> row when <paramref name="hasOlder"/>.
    /// <paramref name="days"/> caches local days between calls for the same chat.
    /// </summary>
    public static List<ChatRow> Of(IReadOnlyList<StoredMessage> messages, bool hasOlder, Dictionary<long, DateOnly> days)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(days);
        var rows = new List<ChatRow>(messages.Count + 8);
        if (hasOlder)
        {
            rows.Add(Older);
        }
        DateOnly? day = null;
        foreach (var message in messages)
        {
            var quarter = Math.DivRem(message.SentAt.ToUnixTimeSeconds(), QuarterHour, out var within) - (within < 0 ? 1 : 0);
            if (!days.TryGetValue(quarter, out var local))
            {
                local = DateOnly.FromDateTime(message.SentAt.ToLocalTime().DateTime);
                days[quarter] = local;
            }
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
