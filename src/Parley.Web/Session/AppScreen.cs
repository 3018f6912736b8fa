namespace Parley.Web.Session;

/// <summary>Which whole-page screen the app shows.</summary>
public enum AppScreen
{
    /// <summary>Opening the local store.</summary>
    Starting = 0,

    /// <summary>No account in this browser yet: register.</summary>
    Welcome = 1,

    /// <summary>The chat list and the open chat.</summary>
    Chats = 2,

    /// <summary>The server could not be reached while there was no local account to fall back on.</summary>
    ServerUnreachable = 3,

    /// <summary>The server no longer accepts this browser's device credentials (device removed, account deleted).</summary>
    SessionExpired = 4,

    /// <summary>The browser refused to store more (quota exceeded or storage blocked).</summary>
    StorageFull = 5,
}
