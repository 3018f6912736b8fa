using System.Collections.Concurrent;
using Parley.Client;
using Parley.Client.Events;

namespace Parley.EndToEnd.Tests;

/// <summary>Records what one client raised: messages, status changes, queue drains, typing, presence and decryption failures.</summary>
public sealed class Inbox
{
    private readonly ConcurrentQueue<StoredMessage> _messages = new();
    private readonly ConcurrentDictionary<string, List<MessageStatus>> _statuses = new();
    private int _drains;

    public Inbox(ParleyClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.MessageReceived += (_, e) => _messages.Enqueue(e.Message);
        client.MessageStatusChanged += (_, e) =>
        {
            var list = _statuses.GetOrAdd(e.MessageId, _ => []);
            lock (list)
            {
                list.Add(e.Status);
            }
        };
        client.QueueDrained += (_, _) => Interlocked.Increment(ref _drains);
        client.TypingChanged += (_, e) => Typing.Enqueue(e);
        client.PresenceChanged += (_, e) => Presence.Enqueue(e);
        client.DecryptionFailed += (_, e) => DecryptionFailures.Enqueue(e);
    }

    public IReadOnlyList<StoredMessage> Messages => [.. _messages];

    public IReadOnlyList<string> Texts => [.. _messages.Select(m => m.Text)];

    public int Drains => Volatile.Read(ref _drains);

    public ConcurrentQueue<TypingChangedEventArgs> Typing { get; } = new();

    public ConcurrentQueue<PresenceChangedEventArgs> Presence { get; } = new();

    public ConcurrentQueue<DecryptionFailedEventArgs> DecryptionFailures { get; } = new();

    /// <summary>Every status change raised for <paramref name="messageId"/>, in order.</summary>
    public IReadOnlyList<MessageStatus> StatusesOf(string messageId)
    {
        if (!_statuses.TryGetValue(messageId, out var list))
        {
            return [];
        }
        lock (list)
        {
            return [.. list];
        }
    }

    public Task CountAsync(int count) => Wait.UntilAsync(() => _messages.Count >= count, $"{count} messages (have {_messages.Count})");

    public Task StatusAsync(string messageId, MessageStatus status) =>
        Wait.UntilAsync(() => StatusesOf(messageId).Contains(status), $"{status} for {messageId}");
}
