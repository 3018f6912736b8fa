using Parley.Client;

namespace Parley.Web.Session;

/// <summary>
/// One chat as the app shows it. The chat list needs only its summary (the last message and the
/// unread count, from the SDK's store); the messages are loaded when the chat is opened, the newest
/// page first, and older pages as the user scrolls up. Loaded messages are each shown once, in the
/// store's order. Changed only on the UI's synchronization context.
/// </summary>
public sealed partial class Conversation(string peer)
{
    private readonly List<StoredMessage> _messages = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>The other user.</summary>
    public string Peer { get; } = peer;

    /// <summary>The loaded messages, oldest first; never the same id twice. Empty until <see cref="Loaded"/>.</summary>
    public IReadOnlyList<StoredMessage> Messages => _messages;

    /// <summary>Whether the newest page of messages has been read from the store (the chat was opened).</summary>
    public bool Loaded { get; private set; }

    /// <summary>Whether the store may hold messages older than the first loaded one.</summary>
    public bool HasOlder { get; private set; }

    /// <summary>Changes whenever a loaded message is added or changes, so a view knows when to rebuild its rows.</summary>
    public int Version { get; private set; }

    /// <summary>The newest message, or null for a chat without any.</summary>
    public StoredMessage? Last { get; private set; }

    /// <summary>Incoming messages not yet read (the store's count).</summary>
    public int Unread { get; private set; }

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

    /// <summary>Sets what the chat list shows: the store's last message and unread count.</summary>
    public void Summarize(StoredMessage? last, int unread)
    {
        Last = last;
        Unread = unread;
    }

    /// <summary>Replaces the loaded messages with the newest page; <paramref name="hasOlder"/>: the store may hold older ones.</summary>
    public void Load(IReadOnlyList<StoredMessage> newest, bool hasOlder)
    {
        ArgumentNullException.ThrowIfNull(newest);
        _messages.Clear();
        _messages.AddRange(newest);
        Reindex();
        Loaded = true;
        HasOlder = hasOlder;
        Last = _messages.Count > 0 ? _messages[^1] : Last;
        Version++;
    }

    /// <summary>Puts a page of older messages (oldest first) before the loaded ones, leaving out any already shown.</summary>
    public void Prepend(IReadOnlyList<StoredMessage> older, bool hasOlder)
    {
        ArgumentNullException.ThrowIfNull(older);
        _messages.InsertRange(0, older.Where(m => !_index.ContainsKey(m.Id)));
        Reindex();
        HasOlder = hasOlder;
        Version++;
    }

    /// <summary>
    /// Adds a new message (received or sent here) as the newest; returns whether it was new. Before
    /// the chat is loaded only the summary changes: opening reads it from the store.
    /// </summary>
    public bool Add(StoredMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!Loaded)
        {
            if (Last?.Id == message.Id)
            {
                return false;
            }
            Last = message;
            return true;
        }
        if (_index.ContainsKey(message.Id))
        {
            return false;
        }
        _index[message.Id] = _messages.Count;
        _messages.Add(message);
        Last = message;
        Version++;
        return true;
    }

    /// <summary>Moves a loaded message's status forward (never back); returns whether it changed.</summary>
    public bool Advance(string messageId, MessageStatus status)
    {
        if (Last?.Id == messageId && Last.Status < status)
        {
            Last = Last with { Status = status };
        }
        if (!_index.TryGetValue(messageId, out var i) || _messages[i].Status >= status)
        {
            return false;
        }
        _messages[i] = _messages[i] with { Status = status };
        Version++;
        return true;
    }

    private void Reindex()
    {
        _index.Clear();
        for (var i = 0; i < _messages.Count; i++)
        {
            _index[_messages[i].Id] = i;
        }
    }
}
