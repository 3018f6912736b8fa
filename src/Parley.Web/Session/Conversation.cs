using Parley.Client;

namespace Parley.Web.Session;

/// <summary>
/// One chat as the app shows it: its messages (each once, in the store's order), unread count,
/// the peer's presence and typing. Changed only on the UI's synchronization context.
/// </summary>
public sealed partial class Conversation(string peer)
{
    private readonly List<StoredMessage> _messages = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>The other user.</summary>
    public string Peer { get; } = peer;

    /// <summary>The messages, oldest first; never the same id twice.</summary>
    public IReadOnlyList<StoredMessage> Messages => _messages;

    /// <summary>The newest message, or null for a chat just started.</summary>
    public StoredMessage? Last => _messages.Count > 0 ? _messages[^1] : null;

    /// <summary>Incoming messages not yet marked read here.</summary>
    public int Unread => _messages.Count(m => m.Direction == MessageDirection.Incoming && m.Status < MessageStatus.Read);

    /// <summary>Whether the peer is online now (null until the server says).</summary>
    public bool? Online { get; set; }

    /// <summary>When the peer was last online, when the server shares it.</summary>
    public DateTimeOffset? LastSeen { get; set; }

    /// <summary>Whether the peer is typing now.</summary>
    public bool Typing { get; set; }

    /// <summary>Whether the peer's identity key changed and this user has not accepted it yet.</summary>
    public bool IdentityChanged { get; set; }

    /// <summary>Whether this user marked the peer's identity verified.</summary>
    public bool Verified { get; set; }

    /// <summary>Adds <paramref name="message"/> unless its id is already shown; returns whether it was added.</summary>
    public bool Add(StoredMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_index.ContainsKey(message.Id))
        {
            return false;
        }
        _index[message.Id] = _messages.Count;
        _messages.Add(message);
        return true;
    }

    /// <summary>Moves a shown message's status forward (never back); returns whether it changed.</summary>
    public bool Advance(string messageId, MessageStatus status)
    {
        if (!_index.TryGetValue(messageId, out var i) || _messages[i].Status >= status)
        {
            return false;
        }
        _messages[i] = _messages[i] with { Status = status };
        return true;
    }
}
