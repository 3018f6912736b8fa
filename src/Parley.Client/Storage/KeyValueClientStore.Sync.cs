namespace Parley.Client.Storage;

/// <summary>The browser store's part of sync between an account's devices: the chat list and verified marks from another device.</summary>
internal sealed partial class KeyValueClientStore
{
    public IReadOnlyList<ConversationActivity> ConversationSummaries()
    {
        lock (_gate)
        {
            // From the per-conversation index (KeyValueClientStore.Conversations.cs): no pass over every message.
            return [.. _conversations.Values.Where(c => c.Messages.Count > 0)
                .Select(c => (Last: _messages.Rows[c.Messages.Max.Key], c.Unread))
                .OrderByDescending(c => c.Last.Order)
                .Select(c => new ConversationActivity(c.Last.Peer, c.Last.ToStored(), c.Unread))];
        }
    }

    public bool ApplyVerifiedSync(string user, byte[] key, bool verified)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            if (!_peerIdentities.Rows.TryGetValue(user, out var known))
            {
                if (verified)
                {
                    // Our own device compared this key: it becomes the key known here, verified.
                    Set(_peerIdentities, user, new PeerIdentityRow(key, key, false));
                }
                return true;
            }
            if (!known.Key.AsSpan().SequenceEqual(key))
            {
                return false;
            }
            Set(_peerIdentities, user, known with { VerifiedKey = verified ? known.Key : null, Changed = false });
            return true;
        }
    }
}
