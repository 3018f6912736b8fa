using System.Collections.Concurrent;

namespace Parley.Crypto.Groups;

/// <summary>
/// An <see cref="ISenderKeyStore"/> in process memory, for tests and tools. Records are kept
/// serialized, so every load is an independent copy as the store contract asks.
/// </summary>
public sealed class InMemorySenderKeyStore : ISenderKeyStore
{
    private readonly ConcurrentDictionary<(ProtocolAddress Sender, Guid DistributionId), byte[]> _records = new();

    /// <inheritdoc />
    public Task<SenderKeyRecord?> LoadSenderKeyAsync(ProtocolAddress sender, Guid distributionId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_records.TryGetValue((sender, distributionId), out byte[]? stored) ? SenderKeyRecord.Deserialize(stored) : null);

    /// <inheritdoc />
    public Task StoreSenderKeyAsync(ProtocolAddress sender, Guid distributionId, SenderKeyRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records[(sender, distributionId)] = record.Serialize();
        return Task.CompletedTask;
    }
}
