using Google.Protobuf;

namespace Parley.Server.Groups;

/// <summary>
/// A group as the server keeps it in memory: members and roles, nothing else. Every read or
/// change of <see cref="Members"/> and <see cref="Version"/> holds <see cref="Gate"/>, and so does
/// handing a change or a send to the store, so the store sees them in the order they were decided.
/// </summary>
public sealed class Group(long row, ByteString id, ulong version)
{
    /// <summary>Internal id: the dedup table's recipient for the group's messages is its negation.</summary>
    public long Row { get; } = row;

    /// <summary>The public 16-byte random id.</summary>
    public ByteString Id { get; } = id;

    /// <summary>Held while reading or changing the members, and while queueing a change or send.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Grows by one with every change; under <see cref="Gate"/>.</summary>
    public ulong Version { get; set; } = version;

    /// <summary>Members by account id; under <see cref="Gate"/>.</summary>
    public Dictionary<long, StoredMember> Members { get; } = [];

    /// <summary>The live invite link, or null; under <see cref="Gate"/>.</summary>
    public StoredInvite? Invite { get; set; }

    /// <summary>Join requests waiting for an admin, by account id; under <see cref="Gate"/>.</summary>
    public Dictionary<long, StoredJoinRequest> Requests { get; } = [];

    /// <summary>Whether no member is an admin; under <see cref="Gate"/>.</summary>
    public bool HasNoAdmin => !Members.Values.Any(m => m.Role == Protocol.GroupRole.GroupAdmin);
}
