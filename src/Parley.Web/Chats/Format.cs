using System.Globalization;
using Parley.Web.Session;

namespace Parley.Web.Chats;

/// <summary>Times and presence in words, in the browser's time zone, and a chat's initial.</summary>
public static class Format
{
    /// <summary>"14:05" today, "Mon" this week, "3 Nov" before.</summary>
    public static string Short(DateTimeOffset at)
    {
        var local = at.ToLocalTime();
        var today = DateTimeOffset.Now.Date;
        return local.Date == today ? local.ToString("HH:mm", CultureInfo.InvariantCulture)
            : local.Date > today.AddDays(-7) ? local.ToString("ddd", CultureInfo.InvariantCulture)
            : local.ToString("d MMM", CultureInfo.InvariantCulture);
    }

    /// <summary>The clock time of a message.</summary>
    public static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture);

    /// <summary>"Today", "Yesterday" or the date, for a day separator.</summary>
    public static string Day(DateOnly day)
    {
        var today = DateOnly.FromDateTime(DateTime.Now);
        return day == today ? "Today" : day == today.AddDays(-1) ? "Yesterday" : day.ToString("dddd d MMMM yyyy", CultureInfo.InvariantCulture);
    }

    /// <summary>"online", "last seen 14:05", or nothing when the server does not share it.</summary>
    public static string Presence(Conversation chat)
    {
        ArgumentNullException.ThrowIfNull(chat);
        return chat.Online == true ? "online" : chat.LastSeen is { } seen ? "last seen " + Short(seen) : "";
    }

    /// <summary>
    /// What a chat's avatar shows: the title's first character as people see it (a whole emoji or
    /// accented letter, never half of a surrogate pair), in capitals; "?" for an empty title.
    /// </summary>
    public static string Initial(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        title = title.TrimStart();
        return title.Length == 0 ? "?" : title[..StringInfo.GetNextTextElementLength(title)].ToUpperInvariant();
    }
}
