using Google.Protobuf;
using Parley.Crypto.Groups.Proto;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Groups;

/// <summary>
/// What a group member sends (inside a 1:1 session) to let others read its group messages,
/// byte-exact with libsignal: version byte 0x33 ‖ SenderKeyDistributionMessage protobuf
/// (distribution UUID, chain id, iteration, 32-byte chain key, 33-byte signing public key).
/// </summary>
public sealed class SenderKeyDistributionMessage
{
    internal const byte VersionByte = (SenderKeyLimits.MessageVersion << 4) | SenderKeyLimits.MessageVersion;
    private const int ChainKeyLength = 32;

    private readonly byte[] _chainKey;
    private readonly byte[] _serialized;

    private SenderKeyDistributionMessage(Guid distributionId, uint chainId, uint iteration, byte[] chainKey, EcPublicKey signingKey, byte[] serialized)
    {
        DistributionId = distributionId;
        ChainId = chainId;
        Iteration = iteration;
        _chainKey = chainKey;
        SigningKey = signingKey;
        _serialized = serialized;
    }

    /// <summary>The group distribution this sender key is for.</summary>
    public Guid DistributionId { get; }

    /// <summary>The sender's chain id.</summary>
    public uint ChainId { get; }

    /// <summary>The chain position the receiver starts at.</summary>
    public uint Iteration { get; }

    /// <summary>The chain key at <see cref="Iteration"/>; secret.</summary>
    public ReadOnlySpan<byte> ChainKey => _chainKey;

    /// <summary>The key that signs every message of this chain.</summary>
    public EcPublicKey SigningKey { get; }

    /// <summary>Builds a distribution message for the given chain state.</summary>
    internal static SenderKeyDistributionMessage Create(Guid distributionId, uint chainId, uint iteration, byte[] chainKey, EcPublicKey signingKey)
    {
        var body = new SenderKeyDistributionBody
        {
            DistributionUuid = ByteString.CopyFrom(distributionId.ToByteArray(bigEndian: true)),
            ChainId = chainId,
            Iteration = iteration,
            ChainKey = ByteString.CopyFrom(chainKey),
            SigningKey = ByteString.CopyFrom(signingKey.Serialize()),
        };
        byte[] serialized = new byte[1 + body.CalculateSize()];
        serialized[0] = VersionByte;
        body.WriteTo(serialized.AsSpan(1));
        return new SenderKeyDistributionMessage(distributionId, chainId, iteration, (byte[])chainKey.Clone(), signingKey, serialized);
    }

    /// <summary>Parses a distribution message received from a group member.</summary>
    /// <exception cref="InvalidMessageException">Too short, another version, or a malformed body.</exception>
    /// <exception cref="InvalidKeyException">The signing key is not a valid public key.</exception>
    public static SenderKeyDistributionMessage Deserialize(ReadOnlySpan<byte> serialized)
    {
        // At least a public key and a chain key besides the version byte.
        if (serialized.Length < 1 + 32 + 32)
        {
            throw new InvalidMessageException($"Sender key distribution message too short ({serialized.Length} bytes).");
        }

        CheckVersion(serialized[0]);
        SenderKeyDistributionBody body;
        try
        {
            body = SenderKeyDistributionBody.Parser.ParseFrom(serialized[1..]);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidMessageException("Malformed sender key distribution message.", e);
        }

        if (!body.HasDistributionUuid || body.DistributionUuid.Length != 16 || !body.HasChainId || !body.HasIteration
            || !body.HasChainKey || !body.HasSigningKey)
        {
            throw new InvalidMessageException("Sender key distribution message lacks a field.");
        }

        if (body.ChainKey.Length != ChainKeyLength || body.SigningKey.Length != EcPublicKey.SerializedLength)
        {
            throw new InvalidMessageException("Sender key distribution message has a key of the wrong length.");
        }

        return new SenderKeyDistributionMessage(
            new Guid(body.DistributionUuid.Span, bigEndian: true),
            body.ChainId,
            body.Iteration,
            body.ChainKey.ToByteArray(),
            EcPublicKey.Deserialize(body.SigningKey.Span),
            serialized.ToArray());
    }

    /// <summary>The bytes to send, identical to libsignal's for the same content.</summary>
    public byte[] Serialize() => (byte[])_serialized.Clone();

    internal static void CheckVersion(byte versionByte)
    {
        int version = versionByte >> 4;
        if (version < SenderKeyLimits.MessageVersion)
        {
            throw new InvalidMessageException($"Legacy sender key message version {version}.");
        }

        if (version > SenderKeyLimits.MessageVersion)
        {
            throw new InvalidMessageException($"Unknown sender key message version {version}.");
        }
    }
}
