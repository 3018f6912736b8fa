using Parley.Protocol;

namespace Parley.Server.Contacts;

/// <summary>
/// Durable "who has written to whom" edges and presence settings. Edges are read once per process,
/// all at once; they are written by the message store, with the message that makes them.
/// </summary>
public interface IContactStore
{
    /// <summary>Every stored edge, as (sender, recipient) account ids; an edge may appear more than once.</summary>
    IEnumerable<(long Sender, long Recipient)> LoadEdges();

    /// <summary>The account's presence setting; <see cref="PresenceVisibility.Contacts"/> when it never set one.</summary>
    PresenceVisibility LoadVisibility(long account);

    /// <summary>Stores the account's presence setting, durably before returning.</summary>
    void SaveVisibility(long account, PresenceVisibility visibility);
}
