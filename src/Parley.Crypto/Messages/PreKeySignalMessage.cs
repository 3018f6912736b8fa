using Parley.Crypto.Keys;
using Parley.Crypto.Protobuf;

namespace Parley.Crypto.Messages;

/// <summary>
/// The first messages of a session, byte-compatible with libsignal: version byte, then the
/// PreKeySignalMessage protobuf carrying the X3DH/PQXDH inputs (registration id, prekey ids, base key,
/// identity key, Kyber ciphertext) around an embedded <see cref="SignalMessage"/>.
/// </summary>
public sealed class PreKeySignalMessage : CiphertextMessage
{
    private readonly byte[] _serialized;

    private PreKeySignalMessage(
        byte version,
        uint registrationId,
        uint? preKeyId,
        uint signedPreKeyId,
        uint? kyberPreKeyId,
        byte[]? kyberCiphertext,
        EcPublicKey baseKey,
        IdentityKey identityKey,
        SignalMessage message,
        byte[] serialized)
    {
        MessageVersion = version;
        RegistrationId = registrationId;
        PreKeyId = preKeyId;
        SignedPreKeyId = signedPreKeyId;
        KyberPreKeyId = kyberPreKeyId;
        KyberCiphertext = kyberCiphertext;
        BaseKey = baseKey;
        IdentityKey = identityKey;
        Message = message;
        _serialized = serialized;
    }

    /// <inheritdoc />
    public override CiphertextMessageType Type => CiphertextMessageType.PreKey;

    /// <inheritdoc />
    public override ReadOnlyMemory<byte> SerializedMemory => _serialized;

    /// <summary>Session version (3 for X3DH, 4 for PQXDH).</summary>
    public byte MessageVersion { get; }

    /// <summary>The sender's registration id.</summary>
    public uint RegistrationId { get; }

    /// <summary>The recipient's one-time prekey that was used, if any.</summary>
    public uint? PreKeyId { get; }

    /// <summary>The recipient's signed prekey that was used.</summary>
    public uint SignedPreKeyId { get; }

    /// <summary>The recipient's Kyber prekey that was used (PQXDH only).</summary>
    public uint? KyberPreKeyId { get; }

    /// <summary>The KEM ciphertext, type byte included (PQXDH only).</summary>
    public byte[]? KyberCiphertext { get; }

    /// <summary>The sender's ephemeral base key.</summary>
    public EcPublicKey BaseKey { get; }

    /// <summary>The sender's identity key.</summary>
    public IdentityKey IdentityKey { get; }

    /// <summary>The embedded first ratchet message.</summary>
    public SignalMessage Message { get; }

    /// <summary>Parses wire bytes; malformed, incomplete or unknown-version input throws <see cref="InvalidMessageException"/>.</summary>
    public static PreKeySignalMessage Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.IsEmpty)
        {
            throw new InvalidMessageException("PreKey message is empty.");
        }

        byte version = (byte)(serialized[0] >> 4);
        MessageVersions.Check(version);

        uint registrationId = 0;
        uint? preKeyId = null, signedPreKeyId = null, kyberPreKeyId = null;
        byte[]? kyberCiphertext = null;
        ReadOnlySpan<byte> baseKey = default, identityKey = default, message = default;
        bool hasBaseKey = false, hasIdentityKey = false, hasMessage = false;
        try
        {
            var reader = new ProtoReader(serialized[1..]);
            while (reader.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        preKeyId = reader.ReadUInt32(wire);
                        break;
                    case 2:
                        baseKey = reader.ReadBytes(wire);
                        hasBaseKey = true;
                        break;
                    case 3:
                        identityKey = reader.ReadBytes(wire);
                        hasIdentityKey = true;
                        break;
                    case 4:
                        message = reader.ReadBytes(wire);
                        hasMessage = true;
                        break;
                    case 5:
                        registrationId = reader.ReadUInt32(wire);
                        break;
                    case 6:
                        signedPreKeyId = reader.ReadUInt32(wire);
                        break;
                    case 7:
                        kyberPreKeyId = reader.ReadUInt32(wire);
                        break;
                    case 8:
                        kyberCiphertext = reader.ReadBytes(wire).ToArray();
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (ProtoFormatException e)
        {
            throw new InvalidMessageException("Malformed PreKey message: " + e.Message, e);
        }

        if (!hasBaseKey || !hasIdentityKey || !hasMessage || signedPreKeyId is null)
        {
            throw new InvalidMessageException("PreKey message lacks a base key, identity key, message or signed prekey id.");
        }

        if ((kyberPreKeyId is null) != (kyberCiphertext is null))
        {
            throw new InvalidMessageException("PreKey message must carry both or neither of the Kyber prekey id and ciphertext.");
        }

        if (kyberPreKeyId is null && version > MessageVersions.PreKyber)
        {
            throw new InvalidMessageException("Kyber prekey must be present for this session version.");
        }

        EcPublicKey parsedBaseKey;
        IdentityKey parsedIdentity;
        try
        {
            parsedBaseKey = EcPublicKey.Deserialize(baseKey);
            parsedIdentity = IdentityKey.Deserialize(identityKey);
        }
        catch (InvalidKeyException e)
        {
            throw new InvalidMessageException("PreKey message carries an invalid key.", e);
        }

        return new PreKeySignalMessage(
            version,
            registrationId,
            preKeyId,
            signedPreKeyId.Value,
            kyberPreKeyId,
            kyberCiphertext,
            parsedBaseKey,
            parsedIdentity,
            SignalMessage.Deserialize(message),
            serialized.ToArray());
    }

    /// <summary>Wraps a first ratchet message with the session-setup fields (sender side).</summary>
    internal static PreKeySignalMessage Create(
        byte version,
        uint registrationId,
        uint? preKeyId,
        uint signedPreKeyId,
        uint? kyberPreKeyId,
        byte[]? kyberCiphertext,
        EcPublicKey baseKey,
        IdentityKey identityKey,
        SignalMessage message)
    {
        var baseKeyBytes = baseKey.SerializedBytes;
        var identityBytes = identityKey.PublicKey.SerializedBytes;
        var inner = message.SerializedMemory.Span;
        int length = ProtoSize.BytesField(2, baseKeyBytes.Length)
            + ProtoSize.BytesField(3, identityBytes.Length)
            + ProtoSize.BytesField(4, inner.Length)
            + ProtoSize.UInt32Field(5, registrationId)
            + ProtoSize.UInt32Field(6, signedPreKeyId);
        if (preKeyId is { } p)
        {
            length += ProtoSize.UInt32Field(1, p);
        }

        if (kyberPreKeyId is { } k && kyberCiphertext is not null)
        {
            length += ProtoSize.UInt32Field(7, k) + ProtoSize.BytesField(8, kyberCiphertext.Length);
        }

        var serialized = new byte[1 + length];
        serialized[0] = MessageVersions.VersionByte(version);
        var writer = new ProtoSpanWriter(serialized.AsSpan(1));
        if (preKeyId is { } pre)
        {
            writer.WriteUInt32Field(1, pre);
        }

        writer.WriteBytesField(2, baseKeyBytes);
        writer.WriteBytesField(3, identityBytes);
        writer.WriteBytesField(4, inner);
        writer.WriteUInt32Field(5, registrationId);
        writer.WriteUInt32Field(6, signedPreKeyId);
        if (kyberPreKeyId is { } kyber && kyberCiphertext is not null)
        {
            writer.WriteUInt32Field(7, kyber);
            writer.WriteBytesField(8, kyberCiphertext);
        }

        return new PreKeySignalMessage(version, registrationId, preKeyId, signedPreKeyId, kyberPreKeyId, kyberCiphertext, baseKey, identityKey, message, serialized);
    }
}
