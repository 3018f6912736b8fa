using Parley.Client.Groups;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Groups;
using Parley.Protocol;

namespace Parley.Client.Tests;

// Group rules every client store keeps (SQLite and key-value): newer states only, titles by time,
// sender-key rotation clears the holders, member ticks move the message once all devices are there.
public abstract partial class ClientStoreContractTests
{
    private static readonly byte[] Group = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];

    private static GroupParticipant[] Participants(params string[] users) =>
        [.. users.Select((u, i) => new GroupParticipant(u, i == 0, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + i)))];

    [Fact]
    public void Group_state_is_applied_only_when_newer_and_keeps_the_title()
    {
        Assert.True(_store.ApplyGroupState(Group, 2, Participants("alice", "bob"), "alice"));
        Assert.True(_store.SetGroupTitle(Group, "Climbing", 10));
        Assert.False(_store.SetGroupTitle(Group, "Older", 5));
        Assert.False(_store.ApplyGroupState(Group, 1, Participants("alice"), "alice"));
        Assert.True(_store.ApplyGroupState(Group, 3, Participants("bob"), "alice"));

        var info = Reopen().FindGroup(Group)!;
        Assert.Equal((GroupConversation.IdText(Group), "Climbing", 3ul, false), (info.Id, info.Title, info.Version, info.IsMember));
        Assert.Equal(["bob"], info.Members.Select(m => m.User));
    }

    [Fact]
    public void Rotation_gives_a_new_distribution_and_forgets_every_holder()
    {
        _store.ApplyGroupState(Group, 1, Participants("alice", "bob"), "alice");
        var first = _store.CurrentDistribution(Group);
        Assert.Equal(first, _store.CurrentDistribution(Group));
        _store.AddSenderKeyHolder(Group, first, "bob", 1);
        Assert.Equal([("bob", 1u)], _store.SenderKeyHolders(Group, first));

        _store.MarkSenderKeyRotation(Group);
        var reopened = Reopen();
        var second = reopened.CurrentDistribution(Group);
        Assert.NotEqual(first, second);
        Assert.Empty(reopened.SenderKeyHolders(Group, first));
        Assert.Empty(reopened.SenderKeyHolders(Group, second));
    }

    [Fact]
    public void Sender_keys_are_kept_per_device_and_distribution()
    {
        var distribution = Guid.NewGuid();
        var bob = new ProtocolAddress("bob", 1);
        new GroupSessionBuilder(_store).Create(bob, distribution);
        Assert.NotNull(Reopen().LoadSenderKey(bob, distribution));
        Assert.Null(_store.LoadSenderKey(new ProtocolAddress("bob", 2), distribution));
        Assert.Null(_store.LoadSenderKey(bob, Guid.NewGuid()));
    }

    [Fact]
    public void A_group_message_is_delivered_when_every_member_device_has_it_and_read_when_every_member_read_it()
    {
        var id = MessageId.New();
        _store.AddOutgoing(id, GroupConversation.Of(Group), "alice", 1, "hi all", 1, []);
        Assert.True(_store.CompleteGroupSend(id, "alice", [("bob", 1), ("bob", 2), ("carol", 1)]));

        Assert.Equal((true, (StoredMessage?)null), _store.AdvanceGroupReceipt(id, "alice", "bob", 1, MessageStatus.Delivered));
        Assert.Null(_store.AdvanceGroupReceipt(id, "alice", "carol", 1, MessageStatus.Delivered).Changed);
        Assert.Equal(MessageStatus.Delivered, _store.AdvanceGroupReceipt(id, "alice", "bob", 2, MessageStatus.Delivered).Changed?.Status);
        Assert.Null(_store.AdvanceGroupReceipt(id, "alice", "bob", 1, MessageStatus.Read).Changed);
        Assert.Equal(MessageStatus.Read, _store.AdvanceGroupReceipt(id, "alice", "carol", 1, MessageStatus.Read).Changed?.Status);
        Assert.All(Reopen().GroupReceipts(id), r => Assert.Equal(MessageStatus.Read, r.Status));
        Assert.False(_store.AdvanceGroupReceipt(MessageId.New(), "alice", "bob", 1, MessageStatus.Read).IsGroupMessage);
    }
}
