using Parley.Crypto.Sessions;

namespace Parley.Crypto.Stores;

/// <summary>Session records per remote device.</summary>
public interface ISessionStore
{
    /// <summary>The record for <paramref name="address"/>, or null if none. The caller owns the returned record: changes reach the store only through <see cref="StoreSession"/>.</summary>
    SessionRecord? LoadSession(ProtocolAddress address);

    /// <summary>Device ids other than 1 that have sessions for account <paramref name="name"/>.</summary>
    IReadOnlyList<uint> GetSubDeviceSessions(string name);

    /// <summary>Saves (or replaces) the record for <paramref name="address"/>.</summary>
    void StoreSession(ProtocolAddress address, SessionRecord record);

    /// <summary>Whether a record with a current session exists for <paramref name="address"/>.</summary>
    bool ContainsSession(ProtocolAddress address);

    /// <summary>Deletes the record for <paramref name="address"/>.</summary>
    void DeleteSession(ProtocolAddress address);

    /// <summary>Deletes the records of every device of <paramref name="name"/>.</summary>
    void DeleteAllSessions(string name);
}
