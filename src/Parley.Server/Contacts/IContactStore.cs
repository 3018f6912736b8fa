using Parley.Protocol;

namespace Parley.Server.Contacts;

/// <summary>
/// Durable "who has written to whom" edges and presence settings. Reads happen once per account
/// per process; edges are written by the message store, with the message that makes them.
/// </summary>
public interface IContactStore
{
    /// <summary>Every edge with <paramref name="account"/> at either end, as (sender, recipient) account ids.</summary>
    IReadOnlyList<(long Sender, long Recipient)> LoadEdges(long account);

    /// <summary>The account's presence setting; <see cref="PresenceVisibility.Contacts"/> when it never set one.</summary>
    PresenceVisibility LoadVisibility(long account);

    /// <summary>Stores the account's presence setting, durably before returning.</summary>
    void SaveVisibility(long account, PresenceVisibility visibility);
}
