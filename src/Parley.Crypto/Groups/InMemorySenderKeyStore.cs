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
    public SenderKeyRecord? LoadSenderKey(ProtocolAddress sender, Guid distributionId) =>
        _records.TryGetValue((sender, distributionId), out byte[]? stored) ? SenderKeyRecord.Deserialize(stored) : null;

    /// <inheritdoc />
    public void StoreSenderKey(ProtocolAddress sender, Guid distributionId, SenderKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records[(sender, distributionId)] = record.Serialize();
    }
}
