using System.Globalization;
using Parley.Client.Groups;
using Parley.Crypto;
using Parley.Crypto.Groups;

namespace Parley.Client.Storage;

// Groups in the key-value store: the same rules as ClientStore.Groups.cs (the SQLite tables of the
// same names), one row per group with its members, one per sender key, holder and member tick.
internal sealed partial class KeyValueClientStore
{
    private readonly Table<GroupRow> _groups = new("groups");
    private readonly Table<byte[]> _senderKeys = new("sender_keys");
    private readonly Table<HolderRow> _senderKeyHolders = new("sender_key_holders");
    private readonly Table<ReceiptRow> _groupReceipts = new("group_receipts");

    private Task LoadGroupTablesAsync(CancellationToken cancellationToken) => Task.WhenAll(
        LoadTableAsync(_groups, cancellationToken),
        LoadTableAsync(_senderKeys, cancellationToken),
        LoadTableAsync(_senderKeyHolders, cancellationToken),
        LoadTableAsync(_groupReceipts, cancellationToken));

    public bool ApplyGroupState(byte[] groupId, ulong version, IReadOnlyList<GroupParticipant> members, string me)
    {
        ArgumentNullException.ThrowIfNull(members);
        lock (_gate)
        {
            var old = Get(_groups, Hex(groupId));
            if (old is not null && old.Version >= version)
            {
                return false;
            }
            var rows = members.Select(m => new MemberRow(m.User, m.IsAdmin, m.JoinedAt.ToUnixTimeMilliseconds())).ToArray();
            var isMember = members.Any(m => m.User == me);
            Set(_groups, Hex(groupId), old is null
                ? new GroupRow(groupId, version, isMember, "", 0, null, false, rows)
                : old with { Version = version, Member = isMember, Members = rows });
            return true;
        }
    }

    public void MarkSenderKeyRotation(byte[] groupId)
    {
        lock (_gate)
        {
            if (Get(_groups, Hex(groupId)) is { Distribution: not null } g)
            {
                Set(_groups, Hex(groupId), g with { Rotate = true });
            }
        }
    }

    public bool SetGroupTitle(byte[] groupId, string title, long at)
    {
        lock (_gate)
        {
            if (Get(_groups, Hex(groupId)) is not { } g || g.TitleAt > at)
            {
                return false;
            }
            Set(_groups, Hex(groupId), g with { Title = title, TitleAt = at });
            return true;
        }
    }

    public GroupInfo? FindGroup(byte[] groupId)
    {
        lock (_gate)
        {
            return Get(_groups, Hex(groupId))?.ToInfo();
        }
    }

    public IReadOnlyList<GroupInfo> AllGroups()
    {
        lock (_gate)
        {
            return [.. _groups.Rows.Values.OrderBy(g => g.Title, StringComparer.Ordinal).ThenBy(g => Hex(g.Id), StringComparer.Ordinal).Select(g => g.ToInfo())];
        }
    }

    public Guid CurrentDistribution(byte[] groupId) => Atomically(() =>
    {
        var g = Get(_groups, Hex(groupId));
        if (g is { Distribution: { } current, Rotate: false })
        {
            return Guid.Parse(current, CultureInfo.InvariantCulture);
        }
        var fresh = Guid.NewGuid();
        if (g is not null)
        {
            Set(_groups, Hex(groupId), g with { Distribution = fresh.ToString("D"), Rotate = false });
        }
        foreach (var key in _senderKeyHolders.Rows.Where(h => h.Value.GroupId.AsSpan().SequenceEqual(groupId)).Select(h => h.Key).ToList())
        {
            Set(_senderKeyHolders, key, null);
        }
        return fresh;
    });

    public HashSet<(string User, uint Device)> SenderKeyHolders(byte[] groupId, Guid distribution)
    {
        lock (_gate)
        {
            var d = distribution.ToString("D");
            return [.. _senderKeyHolders.Rows.Values.Where(h => h.Distribution == d && h.GroupId.AsSpan().SequenceEqual(groupId)).Select(h => (h.User, h.Device))];
        }
    }

    public void AddSenderKeyHolder(byte[] groupId, Guid distribution, string user, uint device)
    {
        lock (_gate)
        {
            var d = distribution.ToString("D");
            Set(_senderKeyHolders, $"{Hex(groupId)}/{d}/{user}/{Id(device)}", new HolderRow(groupId, d, user, device));
        }
    }

    public void ForgetSenderKeyHolder(string user, uint device)
    {
        lock (_gate)
        {
            foreach (var key in _senderKeyHolders.Rows.Where(h => h.Value.User == user && h.Value.Device == device).Select(h => h.Key).ToList())
            {
                Set(_senderKeyHolders, key, null);
            }
        }
    }

    public SenderKeyRecord? LoadSenderKey(ProtocolAddress sender, Guid distributionId)
    {
        ArgumentNullException.ThrowIfNull(sender);
        lock (_gate)
        {
            return Get(_senderKeys, SenderKeyKey(sender, distributionId)) is { } record ? SenderKeyRecord.Deserialize(record) : null;
        }
    }

    public void StoreSenderKey(ProtocolAddress sender, Guid distributionId, SenderKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            Set(_senderKeys, SenderKeyKey(sender, distributionId), record.Serialize());
        }
    }

    public void AddGroupControl(byte[] id, string conversation, long sentAt, byte[] content)
    {
        lock (_gate)
        {
            Set(_outbox, Hex(id), new OutboxRow(_nextPosition++, id, conversation, sentAt, content));
        }
    }

    public bool CompleteGroupSend(byte[] id, string sender, IEnumerable<(string User, uint Device)> recipients) => Atomically(() =>
    {
        ArgumentNullException.ThrowIfNull(recipients);
        foreach (var (user, device) in recipients)
        {
            var key = ReceiptKey(id, user, device);
            if (!_groupReceipts.Rows.ContainsKey(key))
            {
                Set(_groupReceipts, key, new ReceiptRow(id, user, device, MessageStatus.Sent));
            }
        }
        return CompleteOutbox(id, sender);
    });

    public (bool IsGroupMessage, StoredMessage? Changed) AdvanceGroupReceipt(byte[] id, string me, string member, uint device, MessageStatus status) => Atomically(() =>
    {
        var prefix = Hex(id) + "/";
        var rows = _groupReceipts.Rows.Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (rows.Count == 0)
        {
            return (false, (StoredMessage?)null);
        }
        foreach (var (key, row) in rows)
        {
            if (row.User == member && (status == MessageStatus.Read || row.Device == device) && row.Status < status)
            {
                Set(_groupReceipts, key, row with { Status = status });
            }
        }
        var least = _groupReceipts.Rows.Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal)).Min(r => r.Value.Status);
        var messageKey = MessageKey(me, id);
        if (_messages.Rows.TryGetValue(messageKey, out var m) && m.Status < least && m.Status != MessageStatus.Failed)
        {
            var moved = m with { Status = least };
            Set(_messages, messageKey, moved);
            return (true, moved.ToStored());
        }
        return (true, null);
    });

    public IReadOnlyList<MemberReceipt> GroupReceipts(byte[] id)
    {
        lock (_gate)
        {
            var prefix = Hex(id) + "/";
            return [.. _groupReceipts.Rows.Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r.Value)
                .OrderBy(r => r.User, StringComparer.Ordinal).ThenBy(r => r.Device).Select(r => new MemberReceipt(r.User, r.Device, r.Status))];
        }
    }

    private static string SenderKeyKey(ProtocolAddress sender, Guid distribution) => $"{sender.Name}/{Id(sender.DeviceId)}/{distribution:D}";

    private static string ReceiptKey(byte[] id, string user, uint device) => $"{Hex(id)}/{user}/{Id(device)}";

    private sealed record MemberRow(string User, bool Admin, long JoinedAt);

    private sealed record GroupRow(byte[] Id, ulong Version, bool Member, string Title, long TitleAt, string? Distribution, bool Rotate, MemberRow[] Members)
    {
        public GroupInfo ToInfo() => new(GroupConversation.IdText(Id), Title, Version, Member,
            [.. Members.OrderBy(m => m.JoinedAt).ThenBy(m => m.User, StringComparer.Ordinal)
                .Select(m => new GroupParticipant(m.User, m.Admin, DateTimeOffset.FromUnixTimeMilliseconds(m.JoinedAt)))]);
    }

    private sealed record HolderRow(byte[] GroupId, string Distribution, string User, uint Device);

    private sealed record ReceiptRow(byte[] Id, string User, uint Device, MessageStatus Status);
}
