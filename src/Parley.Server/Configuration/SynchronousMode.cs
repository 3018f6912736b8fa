namespace Parley.Server.Configuration;

/// <summary>SQLite's PRAGMA synchronous choices that keep WAL consistent.</summary>
public enum SynchronousMode
{
    Normal,
    Full,
}
