using System.Buffers.Binary;
using System.Security.Cryptography;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Groups;

/// <summary>
/// Sets up Sender Key group sessions: creates this device's distribution message for a group
/// (making the chain on first use) and installs distribution messages received from others.
/// </summary>
public sealed class GroupSessionBuilder
{
    private readonly ISenderKeyStore _store;

    /// <summary>Creates a builder over a sender key store.</summary>
    public GroupSessionBuilder(ISenderKeyStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>
    /// Returns the distribution message for our own chain in <paramref name="distributionId"/>,
    /// creating the chain (random 31-bit id, random chain key, fresh signing key) if none exists.
    /// Send it to every member over 1:1 sessions before the first group message.
    /// </summary>
    public SenderKeyDistributionMessage Create(ProtocolAddress self, Guid distributionId)
    {
        ArgumentNullException.ThrowIfNull(self);
        SenderKeyRecord? record = _store.LoadSenderKey(self, distributionId);
        if (record is null || record.IsEmpty)
        {
            // 31-bit chain ids, as libsignal-protocol-java reads them into a signed int.
            uint chainId = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4)) >> 1;
            EcKeyPair signingKey = EcKeyPair.Generate();
            record = new SenderKeyRecord();
            record.AddState(SenderKeyLimits.MessageVersion, chainId, 0, RandomNumberGenerator.GetBytes(32), signingKey.PublicKey, signingKey.PrivateKey);
            _store.StoreSenderKey(self, distributionId, record);
        }

        SenderKeyState state = record.Current!;
        return SenderKeyDistributionMessage.Create(distributionId, state.ChainId, state.ChainKey.Iteration, state.ChainKey.Seed, state.SigningKey);
    }

    /// <summary>Installs a member's chain so their group messages can be decrypted.</summary>
    public void Process(ProtocolAddress sender, SenderKeyDistributionMessage message)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(message);
        SenderKeyRecord record = _store.LoadSenderKey(sender, message.DistributionId)
            ?? new SenderKeyRecord();
        record.AddState(SenderKeyLimits.MessageVersion, message.ChainId, message.Iteration, message.ChainKey.ToArray(), message.SigningKey, null);
        _store.StoreSenderKey(sender, message.DistributionId, record);
    }
}
