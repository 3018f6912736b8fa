namespace Parley.Crypto.Groups;

/// <summary>
/// Persists sender key records per (sender device, distribution). A load must return a record
/// the caller may change freely: changes count only once stored back (a failed decrypt stores nothing).
/// </summary>
public interface ISenderKeyStore
{
    /// <summary>Returns the record, or null when none was stored.</summary>
    SenderKeyRecord? LoadSenderKey(ProtocolAddress sender, Guid distributionId);

    /// <summary>Stores (replaces) the record.</summary>
    void StoreSenderKey(ProtocolAddress sender, Guid distributionId, SenderKeyRecord record);
}
