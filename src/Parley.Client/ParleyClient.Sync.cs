using Google.Protobuf;
using Parley.Client.Events;
using Parley.Client.Groups;
using Parley.Client.Storage;
using Parley.Client.Sync;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client;

// Sync between an account's devices, inside the ciphertext (docs/protocol.md, "Sync between an
// account's devices"): the copy of a sent message carries its destination, id and time (a sent
// transcript), and read marks and verified marks travel as sync messages to the account's other
// devices. The server writes Envelope.conversation, message_id and sent_at; a device checks them
// against the encrypted values and trusts only those.
public sealed partial class ParleyClient
{
    /// <summary>Why a copy of our own send was dropped: its transcript disagrees with the envelope (a server re-filed it).</summary>
    internal const string SyncMismatch = "sync_mismatch";

    /// <summary>Why a text from another device of this account was dropped: it came without a transcript naming its chat.</summary>
    internal const string SyncWithoutTranscript = "sync_without_transcript";

    /// <summary>Why a sync message was dropped: it came from another account (only our own devices may send one).</summary>
    internal const string SyncFromPeer = "sync_from_peer";

    /// <summary>Why a verified mark from another device was not applied: that device compared another key than the one known here.</summary>
    internal const string VerifiedOtherKey = "verified_other_key";

    // ───────────────────────── the chat list ─────────────────────────

    /// <summary>
    /// Every conversation this device holds a message of (1:1 and groups), the most recent first:
    /// its last message and how many messages from others are not read yet. Read on any device of
    /// the account, a message counts as read here too (read marks sync); what another device sent
    /// is here as its transcript, so every device of the account derives the same list.
    /// </summary>
    public IReadOnlyList<ConversationSummary> GetConversations() =>
        [.. _store.ConversationSummaries().Select(c =>
        {
            var groupId = GroupConversation.IsGroup(c.Conversation) ? c.Conversation[1..] : null;
            var title = groupId is not null && _store.FindGroup(GroupConversation.ParseId(groupId)!) is { Title.Length: > 0 } group ? group.Title : c.Conversation;
            return new ConversationSummary(c.Conversation, groupId, title, c.LastMessage, c.UnreadCount);
        })];

    // ───────────────────────── sending ─────────────────────────

    /// <summary>
    /// The plaintext this account's other devices get for an outbox entry: a sent transcript naming
    /// where it went, its id (<paramref name="original"/> for a resend) and its time, around what the
    /// recipients got. A sync message (addressed to this account) goes as it is.
    /// </summary>
    private byte[] OwnDevicesCopy(OutboxEntry entry, byte[]? original = null)
    {
        if (entry.Peer == Me)
        {
            return entry.Content;
        }
        var sent = new SentTranscript
        {
            MessageId = ByteString.CopyFrom(original ?? entry.Id),
            SentAt = entry.SentAt,
            Message = Content.Parser.ParseFrom(entry.Content),
        };
        if (GroupConversation.ParseId(entry.Peer) is { } group && GroupConversation.IsGroup(entry.Peer))
        {
            sent.GroupId = ByteString.CopyFrom(group);
        }
        else
        {
            sent.Destination = entry.Peer;
        }
        return new Content { Sync = new SyncMessage { Sent = sent } }.ToByteArray();
    }

    /// <summary>
    /// Queues a sync message to this account's other devices in the durable outbox and waits until
    /// the server has it (it goes on the next connect when this one ends first).
    /// </summary>
    private async Task SendSyncAsync(SyncMessage sync, CancellationToken cancellationToken)
    {
        var id = MessageId.New(_options.Time);
        _store.AddGroupControl(id, Me, _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), new Content { Sync = sync }.ToByteArray());
        _outbox.Wake();
        await WaitUntilSentAsync(MessageId.ToText(id), cancellationToken);
    }

    /// <summary>Tells this account's other devices that these messages of one conversation were read here.</summary>
    private Task SendReadSyncAsync(string? peer, byte[]? group, IReadOnlyCollection<byte[]> ids, CancellationToken cancellationToken)
    {
        var read = new ReadSync();
        if (group is not null)
        {
            read.GroupId = ByteString.CopyFrom(group);
        }
        else
        {
            read.Peer = peer!;
        }
        read.MessageIds.AddRange(ids.Select(ByteString.CopyFrom));
        return SendSyncAsync(new SyncMessage { Read = read }, cancellationToken);
    }

    /// <summary>Tells this account's other devices that <paramref name="peer"/>'s current account key is (or is no longer) verified.</summary>
    private Task SendVerifiedSyncAsync(string peer, bool verified, CancellationToken cancellationToken)
    {
        if (_store.PeerIdentity(peer) is not { } key)
        {
            return Task.CompletedTask;
        }
        var sync = new VerifiedSync { User = peer, IdentityKey = ByteString.CopyFrom(key.Serialize()), Verified = verified };
        return SendSyncAsync(new SyncMessage { Verified = sync }, cancellationToken);
    }

    // ───────────────────────── receiving ─────────────────────────

    /// <summary>
    /// The conversation a sent transcript files its message under, when it agrees with the envelope
    /// the server wrote around it: same message id (<paramref name="id"/>: the envelope's, or a
    /// resend's original), same time, and for a 1:1 message the same peer. Null when anything
    /// disagrees: the server tried to re-file or re-date our own message.
    /// </summary>
    internal static string? TranscriptConversation(SentTranscript sent, Envelope envelope, ReadOnlySpan<byte> id, string me)
    {
        if (!sent.MessageId.Span.SequenceEqual(id) || sent.SentAt != envelope.SentAt || sent.Message is null)
        {
            return null;
        }
        if (sent.GroupId.IsEmpty)
        {
            return UserName.IsValid(sent.Destination) && sent.Destination != me && envelope.Conversation == sent.Destination
                ? sent.Destination
                : null;
        }
        // A group message reaches our other devices in the group's fanout; only a resend comes over 1:1, addressed to us.
        return sent.Destination.Length == 0 && sent.GroupId.Length == GroupConversation.IdBytes && envelope.Conversation == me
            && sent.Message.Group is { } g && g.GroupId == sent.GroupId
            ? GroupConversation.Of(sent.GroupId.Span)
            : null;
    }

    /// <summary>
    /// A sync message from another device of this account, inside the decrypting transaction: a
    /// transcript is stored as our outgoing message (when it agrees with the envelope), read marks
    /// and verified marks are applied. What must be raised afterwards goes to <paramref name="effects"/>.
    /// </summary>
    private (StoredMessage? Message, bool IsNew) OpenSync(SyncMessage sync, Envelope envelope, byte[]? original, SyncEffects effects)
    {
        if (envelope.Sender != Me)
        {
            effects.Rejected = SyncFromPeer;
            return (null, false);
        }
        switch (sync.BodyCase)
        {
            case SyncMessage.BodyOneofCase.Sent:
                return OpenTranscript(sync.Sent, envelope, original ?? envelope.MessageId.ToByteArray(), effects);
            case SyncMessage.BodyOneofCase.Read:
                ApplyReadSync(sync.Read, effects);
                return (null, false);
            case SyncMessage.BodyOneofCase.Verified:
                ApplyVerifiedSync(sync.Verified, effects);
                return (null, false);
            default:
                return (null, false);
        }
    }

    private (StoredMessage? Message, bool IsNew) OpenTranscript(SentTranscript sent, Envelope envelope, byte[] id, SyncEffects effects)
    {
        if (TranscriptConversation(sent, envelope, id, Me) is not { } conversation)
        {
            effects.Rejected = SyncMismatch;
            return (null, false);
        }
        if (GroupConversation.IsGroup(conversation))
        {
            return StoreGroupContent(sent.Message, sent.GroupId.ToByteArray(), id, envelope, out _);
        }
        if (ShownText(sent.Message, out var pointer) is not { } text)
        {
            return (null, false);
        }
        var message = new StoredMessage(MessageId.ToText(id), conversation, MessageDirection.Outgoing, Me, envelope.SenderDevice,
            text, FromUnixMs(sent.SentAt), MessageStatus.Sent);
        return (message, StoreReceived(message, id, pointer));
    }

    private void ApplyReadSync(ReadSync read, SyncEffects effects)
    {
        string conversation;
        if (read.GroupId.Length == GroupConversation.IdBytes && read.Peer.Length == 0)
        {
            conversation = GroupConversation.Of(read.GroupId.Span);
        }
        else if (read.GroupId.IsEmpty && UserName.IsValid(read.Peer) && read.Peer != Me)
        {
            conversation = read.Peer;
        }
        else
        {
            return;
        }
        foreach (var raw in read.MessageIds.Take(WireLimits.MaxIdsPerFrame))
        {
            if (raw.Length != WireLimits.MessageIdBytes)
            {
                continue;
            }
            var id = raw.ToByteArray();
            // Only messages from others in that very conversation: a sync message cannot touch another chat.
            if (_store.Find(id) is { Direction: MessageDirection.Incoming } m && m.Peer == conversation
                && _store.Advance(m.Sender, conversation, id, MessageStatus.Read) is { } changed)
            {
                effects.StatusChanges.Add(new MessageStatusChangedEventArgs(changed.Id, conversation, MessageStatus.Read));
            }
        }
    }

    private void ApplyVerifiedSync(VerifiedSync verified, SyncEffects effects)
    {
        if (!UserName.IsValid(verified.User) || verified.User == Me)
        {
            return;
        }
        try
        {
            IdentityKey.Deserialize(verified.IdentityKey.Span);
        }
        catch (CryptoException)
        {
            return;
        }
        if (!_store.ApplyVerifiedSync(verified.User, verified.IdentityKey.ToByteArray(), verified.Verified))
        {
            effects.Rejected = VerifiedOtherKey;
        }
    }

    /// <summary>
    /// Without end-to-end encryption (a custom cipher): a decrypted message from another device of
    /// this account. Only a sync message is taken (stored and applied in one transaction); anything
    /// else is dropped, since it would name its chat only in the server's envelope.
    /// </summary>
    internal (StoredMessage? Message, bool IsNew) OpenOwnCopy(Content content, Envelope envelope)
    {
        var effects = new SyncEffects();
        var result = content.BodyCase == Content.BodyOneofCase.Sync
            ? _store.Atomically(() => OpenSync(content.Sync, envelope, null, effects))
            : (null, false);
        if (content.BodyCase is Content.BodyOneofCase.Text or Content.BodyOneofCase.Attachment)
        {
            effects.Rejected = SyncWithoutTranscript;
        }
        RaiseSyncEffects(effects, envelope);
        return result;
    }

    /// <summary>Raises what a sync message changed, once its transaction has committed.</summary>
    private void RaiseSyncEffects(SyncEffects effects, Envelope envelope)
    {
        foreach (var change in effects.StatusChanges)
        {
            Raise(MessageStatusChanged, change);
        }
        if (effects.Rejected is { } reason)
        {
            Raise(DecryptionFailed, new DecryptionFailedEventArgs(envelope.Sender, envelope.SenderDevice,
                MessageId.ToText(envelope.MessageId.Span), reason, retryRequested: false));
        }
    }

    /// <summary>What handling one sync message did that is raised after its transaction commits.</summary>
    private sealed class SyncEffects
    {
        public List<MessageStatusChangedEventArgs> StatusChanges { get; } = [];

        /// <summary>Why the message was dropped or not applied (a <c>sync_…</c> reason), or null.</summary>
        public string? Rejected { get; set; }
    }
}
