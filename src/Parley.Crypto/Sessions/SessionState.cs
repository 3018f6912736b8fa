using Parley.Crypto.Keys;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>
/// One Double Ratchet session, mirroring libsignal's SessionStructure. Mutable, and only mutated on a
/// private copy (<see cref="Clone"/>) until an operation has fully succeeded. Copies are cheap: key arrays and
/// chains are immutable and shared; only the list of chains is copied.
/// </summary>
internal sealed class SessionState
{
    public SessionState(uint version, IdentityKey localIdentity, IdentityKey? remoteIdentity, byte[] rootKey, byte[] aliceBaseKey)
    {
        Version = version;
        LocalIdentity = localIdentity;
        RemoteIdentity = remoteIdentity;
        RootKey = rootKey;
        AliceBaseKey = aliceBaseKey;
    }

    public uint Version { get; set; }

    public IdentityKey LocalIdentity { get; set; }

    public IdentityKey? RemoteIdentity { get; set; }

    public byte[] RootKey { get; set; }

    public uint PreviousCounter { get; set; }

    public SenderChain? Sender { get; set; }

    public List<ReceiverChain> ReceiverChains { get; private set; } = [];

    public PendingPreKey? PendingPreKey { get; set; }

    public uint RemoteRegistrationId { get; set; }

    public uint LocalRegistrationId { get; set; }

    /// <summary>The initiator's serialized base key: identifies this session when PreKey messages repeat.</summary>
    public byte[] AliceBaseKey { get; set; }

    public SessionState Clone()
    {
        var copy = (SessionState)MemberwiseClone();
        copy.ReceiverChains = [.. ReceiverChains];
        return copy;
    }

    public bool IsSelfSession => RemoteIdentity is not null && RemoteIdentity == LocalIdentity;

    public ReceiverChain? FindReceiverChain(EcPublicKey ratchetKey)
    {
        int index = FindReceiverChainIndex(ratchetKey);
        return index < 0 ? null : ReceiverChains[index];
    }

    public int FindReceiverChainIndex(EcPublicKey ratchetKey)
    {
        for (int i = 0; i < ReceiverChains.Count; i++)
        {
            if (ReceiverChains[i].RatchetKey.Equals(ratchetKey))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Adds a chain and returns its index (the oldest chain is dropped beyond the bound).</summary>
    public int AddReceiverChain(EcPublicKey ratchetKey, ChainKey chainKey)
    {
        ReceiverChains.Add(new ReceiverChain(ratchetKey, chainKey));
        if (ReceiverChains.Count > ProtocolLimits.MaxReceiverChains)
        {
            ReceiverChains.RemoveAt(0);
        }

        return ReceiverChains.Count - 1;
    }
}
