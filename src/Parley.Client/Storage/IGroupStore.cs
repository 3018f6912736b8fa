using Parley.Client.Groups;
using Parley.Crypto.Groups;

namespace Parley.Client.Storage;

/// <summary>
/// What a device keeps about groups: each group's members and roles (the newest version the server
/// sent) and its end-to-end title, every member device's sender keys, who holds this device's
/// current sender key, and each member device's tick of our group messages. The sender-key methods
/// are statement-level (usable inside <see cref="IClientStore.Atomically{T}"/>), as are
/// <see cref="SetGroupTitle"/> and the reads.
/// </summary>
internal interface IGroupStore : ISenderKeyStore
{
    /// <summary>Stores a server group state when its version is newer than the one held (or the group is new); true when applied. The title is kept.</summary>
    bool ApplyGroupState(byte[] groupId, ulong version, IReadOnlyList<GroupParticipant> members, string me);

    /// <summary>Rotates this device's sender key of the group before its next group message (a member was removed or left).</summary>
    void MarkSenderKeyRotation(byte[] groupId);

    /// <summary>Sets the title when <paramref name="at"/> is not older than the title held; true when it changed.</summary>
    bool SetGroupTitle(byte[] groupId, string title, long at);

    /// <summary>One group as stored, or null.</summary>
    GroupInfo? FindGroup(byte[] groupId);

    /// <summary>Every group this device knows of, by title.</summary>
    IReadOnlyList<GroupInfo> AllGroups();

    /// <summary>This device's current sender-key distribution id in the group: a fresh one (and no holders) when none or a rotation is due.</summary>
    Guid CurrentDistribution(byte[] groupId);

    /// <summary>The member devices known to hold this device's sender key <paramref name="distribution"/>.</summary>
    HashSet<(string User, uint Device)> SenderKeyHolders(byte[] groupId, Guid distribution);

    /// <summary>Records that a member device holds the sender key (its distribution is durable on the server).</summary>
    void AddSenderKeyHolder(byte[] groupId, Guid distribution, string user, uint device);

    /// <summary>Forgets that a device holds any of this device's sender keys.</summary>
    void ForgetSenderKeyHolder(string user, uint device);

    /// <summary>Stores a group-state message in the outbox only (it is never shown as a message).</summary>
    void AddGroupControl(byte[] id, string conversation, long sentAt, byte[] content);

    /// <summary>Records SENT of a group message with the member devices it went to (each at Sent); true when the message's status changed.</summary>
    bool CompleteGroupSend(byte[] id, string sender, IEnumerable<(string User, uint Device)> recipients);

    /// <summary>Moves a member's tick (DELIVERED per device, READ per member), then the message; IsGroupMessage false when it is not our group message.</summary>
    (bool IsGroupMessage, StoredMessage? Changed) AdvanceGroupReceipt(byte[] id, string me, string member, uint device, MessageStatus status);

    /// <summary>Each member device's tick of our group message.</summary>
    IReadOnlyList<MemberReceipt> GroupReceipts(byte[] id);
}
