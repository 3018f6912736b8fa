using Google.Protobuf;
using Parley.Crypto.Groups.Proto;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Groups;

/// <summary>
/// One group message, byte-exact with libsignal: version byte 0x33 ‖ SenderKeyMessage protobuf
/// (distribution UUID, chain id, iteration, AES-256-CBC ciphertext) ‖ 64-byte XEdDSA signature of
/// everything before it by the sender's signing key.
/// </summary>
public sealed class SenderKeyMessage
{
    /// <summary>Length of the trailing XEdDSA signature.</summary>
    public const int SignatureLength = 64;

    private readonly byte[] _serialized;

    private SenderKeyMessage(Guid distributionId, uint chainId, uint iteration, byte[] ciphertext, byte[] serialized)
    {
        DistributionId = distributionId;
        ChainId = chainId;
        Iteration = iteration;
        Ciphertext = ciphertext;
        _serialized = serialized;
    }

    /// <summary>The message version (always 3).</summary>
    public static byte MessageVersion => SenderKeyLimits.MessageVersion;

    /// <summary>The group distribution this message belongs to.</summary>
    public Guid DistributionId { get; }

    /// <summary>The sender chain that encrypted it.</summary>
    public uint ChainId { get; }

    /// <summary>Position of the message key in the chain.</summary>
    public uint Iteration { get; }

    /// <summary>The AES-256-CBC ciphertext of the plaintext.</summary>
    public ReadOnlyMemory<byte> Ciphertext { get; }

    /// <summary>Builds and signs a message.</summary>
    internal static SenderKeyMessage Create(Guid distributionId, uint chainId, uint iteration, byte[] ciphertext, EcPrivateKey signingKey)
    {
        var body = new SenderKeyMessageBody
        {
            DistributionUuid = ByteString.CopyFrom(distributionId.ToByteArray(bigEndian: true)),
            ChainId = chainId,
            Iteration = iteration,
            Ciphertext = ByteString.CopyFrom(ciphertext),
        };
        int bodyLength = body.CalculateSize();
        byte[] serialized = new byte[1 + bodyLength + SignatureLength];
        serialized[0] = SenderKeyDistributionMessage.VersionByte;
        body.WriteTo(serialized.AsSpan(1, bodyLength));
        byte[] signature = signingKey.CalculateSignature(serialized.AsSpan(0, 1 + bodyLength));
        signature.CopyTo(serialized, 1 + bodyLength);
        return new SenderKeyMessage(distributionId, chainId, iteration, ciphertext, serialized);
    }

    /// <summary>Parses a message; does not check the signature (see <see cref="VerifySignature"/>).</summary>
    /// <exception cref="InvalidMessageException">Too short, another version, or a malformed body.</exception>
    public static SenderKeyMessage Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length < 1 + SignatureLength)
        {
            throw new InvalidMessageException($"Sender key message too short ({serialized.Length} bytes).");
        }

        SenderKeyDistributionMessage.CheckVersion(serialized[0]);
        SenderKeyMessageBody body;
        try
        {
            body = SenderKeyMessageBody.Parser.ParseFrom(serialized[1..^SignatureLength]);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidMessageException("Malformed sender key message.", e);
        }

        if (!body.HasDistributionUuid || body.DistributionUuid.Length != 16 || !body.HasChainId || !body.HasIteration || !body.HasCiphertext)
        {
            throw new InvalidMessageException("Sender key message lacks a field.");
        }

        return new SenderKeyMessage(
            new Guid(body.DistributionUuid.Span, bigEndian: true),
            body.ChainId,
            body.Iteration,
            body.Ciphertext.ToByteArray(),
            serialized.ToArray());
    }

    /// <summary>True when the trailing signature is a valid XEdDSA signature by <paramref name="signingKey"/>.</summary>
    public bool VerifySignature(EcPublicKey signingKey)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        return signingKey.VerifySignature(_serialized.AsSpan(0, _serialized.Length - SignatureLength), _serialized.AsSpan(_serialized.Length - SignatureLength));
    }

    /// <summary>The bytes to send, identical to what libsignal produces for the same content and signature.</summary>
    public byte[] Serialize() => (byte[])_serialized.Clone();
}
