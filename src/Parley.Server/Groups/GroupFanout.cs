using System.Buffers;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Limits;
using Parley.Server.Messaging;

namespace Parley.Server.Groups;

/// <summary>
/// Group sends and group READs. A send carries one body (sender-key ciphertext) and the device set
/// it was made for; the server checks the sender is a member and the set is every device of every
/// member plus the sender's other devices (else STALE_DEVICES with the current lists), then stores
/// the body once with its recipient device set (no row per device), deduplicated like a 1:1 send, and answers SENT once
/// durable. A send counts once against the sender's message rate.
/// </summary>
public sealed class GroupFanout(GroupDirectory groups, AccountDirectory accounts, IMessageStore store, MessageRouter router, IOptions<ParleyOptions> options, TimeProvider time)
{
    private readonly LimitOptions _limits = options.Value.Limits;

    // One typing frame reaches every device of up to 1023 members, so it has a rate of its own per
    // (account, group): the frame rate alone would let one member send each of them 200 a second.
    private readonly TokenBuckets<(long Account, long Group)> _typing =
        new(options.Value.Limits.GroupTypingPerSecond, options.Value.Limits.GroupTypingBurst, time);

    /// <summary>
    /// The accounts a member's typing in the group goes to (every other member), or null when the
    /// group does not exist or <paramref name="sender"/> is not in it (NOT_A_MEMBER). Past the
    /// sender's typing rate in this group the list is empty: the update is dropped (typing is best
    /// effort and the next one says the same), answered like one that found nobody online.
    /// </summary>
    public IReadOnlyList<Account>? OtherMembers(Account sender, ByteString groupId)
    {
        if (groupId.Length != 16 || groups.Find(groupId) is not { } group)
        {
            return null;
        }
        long[] ids;
        lock (group.Gate)
        {
            if (!group.Members.ContainsKey(sender.Id))
            {
                return null;
            }
            ids = [.. group.Members.Keys.Where(id => id != sender.Id)];
        }
        if (!_typing.TryTake((sender.Id, group.Row), out _))
        {
            return [];
        }
        return [.. ids.Select(accounts.Find).OfType<Account>()];
    }

    /// <summary>
    /// Validates a group send and hands it to the store. Returns the failure to answer at once, or
    /// null with <paramref name="stored"/> completing once durable (false: a duplicate).
    /// </summary>
    public ServerFrame? BeginSend(Account sender, uint senderDevice, SendGroupMessage send, out Task<bool> stored)
    {
        stored = Task.FromResult(false);
        if (send.MessageId.Length != WireLimits.MessageIdBytes)
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, "message_id must be 16 bytes");
        }
        if (send.Body.Length > WireLimits.MaxPayloadBytes)
        {
            return MessageRouter.Fail(ErrorCode.TooLarge, $"a group message body is at most {WireLimits.MaxPayloadBytes} bytes");
        }
        if (send.GroupId.Length != 16 || groups.Find(send.GroupId) is not { } group)
        {
            return GroupAdministration.NotAMember();
        }
        // The addressed members' accounts, found once by StaleDevices for the queue keys below.
        var members = ArrayPool<Account>.Shared.Rent(send.Devices.Count);
        try
        {
            return BeginSend(group, sender, senderDevice, send, members, out stored);
        }
        finally
        {
            ArrayPool<Account>.Shared.Return(members, clearArray: true);
        }
    }

    private ServerFrame? BeginSend(Group group, Account sender, uint senderDevice, SendGroupMessage send, Account[] members, out Task<bool> stored)
    {
        stored = Task.FromResult(false);
        lock (group.Gate)
        {
            if (!group.Members.ContainsKey(sender.Id))
            {
                return GroupAdministration.NotAMember();
            }
            if (StaleDevices(group, sender, senderDevice, send.Devices, members) is { } stale)
            {
                return stale;
            }
            if (router.TakeSendToken(sender) is { } limited)
            {
                return limited;
            }
            var keys = new List<long>(send.Devices.Count * 2);
            // By index: foreach over a RepeatedField allocates an enumerator, here one per member.
            for (int l = 0; l < send.Devices.Count; l++)
            {
                var list = send.Devices[l];
                var account = members[l];
                for (int d = 0; d < list.DeviceIds.Count; d++)
                {
                    var key = new DeviceAddress(account.Id, list.DeviceIds[d]).Key;
                    // One member's device offline long enough to fill its queue misses this copy
                    // rather than holding up the whole group.
                    var usage = store.Usage(key);
                    if (usage.Envelopes < _limits.MaxQueuedEnvelopesPerDevice && usage.Bytes + send.Body.Length <= _limits.MaxQueuedBytesPerDevice)
                    {
                        keys.Add(key);
                    }
                }
            }
            var envelope = new Envelope
            {
                Kind = EnvelopeKind.Message,
                MessageId = send.MessageId,
                Sender = sender.User,
                SenderDevice = senderDevice,
                GroupId = group.Id,
                SentAt = send.SentAt,
                Payload = send.Body,
            };
            // The recipient of a group message in the dedup table is the group (negated row), so a
            // member's READ can be checked against what was really sent to the group.
            var dedup = new DedupKey(new DeviceAddress(sender.Id, senderDevice).Key, send.MessageId.ToByteArray(), -group.Row);
            stored = store.AppendFanoutAsync(dedup, envelope, keys);
        }
        return null;
    }

    /// <summary>
    /// READ for messages <paramref name="read"/>.Peer sent to the group: only for members, only for
    /// ids the peer really sent to this group; queued to the peer's devices.
    /// </summary>
    public async Task<ServerFrame> ReadAsync(Account reader, uint readerDevice, ReadReceipt read)
    {
        if (read.MessageIds.Count == 0 || read.MessageIds.Count > WireLimits.MaxIdsPerFrame ||
            read.MessageIds.Any(id => id.Length != WireLimits.MessageIdBytes))
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, $"1 to {WireLimits.MaxIdsPerFrame} message ids of 16 bytes");
        }
        if (read.GroupId.Length != 16 || groups.Find(read.GroupId) is not { } group)
        {
            return GroupAdministration.NotAMember();
        }
        lock (group.Gate)
        {
            if (!group.Members.ContainsKey(reader.Id))
            {
                return GroupAdministration.NotAMember();
            }
        }
        if (!UserName.IsValid(read.Peer) || accounts.Find(read.Peer) is not { } peer)
        {
            return MessageRouter.Fail(ErrorCode.UnknownUser, "no such user");
        }
        var sent = store.SentTo(peer.Id, -group.Row, read.MessageIds);
        if (sent.Count == 0)
        {
            return MessageRouter.Fail(ErrorCode.NotFound, $"none of these ids is a message {peer.User} sent this group recently (the last {_limits.DedupPerDevice} of each of its devices, within {_limits.DedupDays} days)");
        }
        var receipts = new List<QueuedEnvelope>();
        // The peer's devices only; the reader's other devices take the reader's encrypted read sync.
        AddReceipts(receipts, reader, readerDevice, peer, group.Id, sent);
        await store.AppendGroupReceiptsAsync(receipts);
        return new ServerFrame { Ok = new Ok() };
    }

    private static void AddReceipts(List<QueuedEnvelope> into, Account from, uint fromDevice, Account to, ByteString groupId, IReadOnlyList<ByteString> ids)
    {
        foreach (var device in to.Devices)
        {
            if (to == from && device.Id == fromDevice)
            {
                continue;
            }
            var envelope = new Envelope { Kind = EnvelopeKind.ReadReceipt, Sender = from.User, SenderDevice = fromDevice, Conversation = from == to ? "" : from.User, GroupId = groupId };
            envelope.ReceiptIds.AddRange(ids);
            into.Add(new QueuedEnvelope(new DeviceAddress(to.Id, device.Id).Key, envelope));
        }
    }

    /// <summary>
    /// STALE_DEVICES (with every member's current devices) unless the send addresses exactly every
    /// device of every member, the sender's other devices included and its sending device not.
    /// When it is exact, <paramref name="found"/> holds each addressed list's account, in order.
    /// </summary>
    private ServerFrame? StaleDevices(Group group, Account sender, uint senderDevice, IList<DeviceList> addressed, Account[] found)
    {
        bool exact = true;
        var seen = new HashSet<long>(addressed.Count);
        for (int i = 0; i < addressed.Count; i++)
        {
            var list = addressed[i];
            if (accounts.Find(list.User) is not { } account || !group.Members.ContainsKey(account.Id) || !seen.Add(account.Id) ||
                !SameDevices(account, account == sender ? senderDevice : null, list.DeviceIds))
            {
                exact = false;
                break;
            }
            found[i] = account;
        }
        if (exact)
        {
            foreach (var member in group.Members.Keys)
            {
                if (!seen.Contains(member) && !(member == sender.Id && sender.Devices.Length == 1))
                {
                    exact = false;
                    break;
                }
            }
        }
        if (exact)
        {
            return null;
        }
        var error = new Error
        {
            Code = ErrorCode.StaleDevices,
            Message = "the device set is stale: address every device of every member and your other devices",
        };
        foreach (var member in group.Members.Keys)
        {
            if (accounts.Find(member) is { } account)
            {
                var list = new DeviceList { User = account.User, Signed = account.DeviceList?.Signed };
                list.DeviceIds.AddRange(account.Devices.Select(d => d.Id).Where(d => account != sender || d != senderDevice));
                error.Devices.Add(list);
            }
        }
        return new ServerFrame { Error = error };
    }

    private static bool SameDevices(Account account, uint? except, IList<uint> ids)
    {
        int expected = account.Devices.Length - (except is null ? 0 : 1);
        if (ids.Count != expected)
        {
            return false;
        }
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == except || account.FindDevice(ids[i]) is null)
            {
                return false;
            }
            for (int j = 0; j < i; j++)
            {
                if (ids[j] == ids[i])
                {
                    return false;
                }
            }
        }
        return true;
    }
}
