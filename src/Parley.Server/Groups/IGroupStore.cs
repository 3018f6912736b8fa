using Parley.Protocol;

namespace Parley.Server.Groups;

/// <summary>
/// Durable group membership. A change is written in the same transaction as the GROUP_CHANGE
/// envelope that tells the member devices about it, so a change is never durable without its
/// notice, nor the notice without the change.
/// </summary>
public interface IGroupStore
{
    /// <summary>Every group, read once at start.</summary>
    IReadOnlyList<StoredGroup> LoadAll();

    /// <summary>
    /// Writes the change and queues <paramref name="notice"/> (one body) for every device in
    /// <paramref name="deviceKeys"/>, atomically; completes once durable.
    /// </summary>
    Task CommitAsync(GroupWrite write, Envelope notice, IReadOnlyList<long> deviceKeys);
}
