using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Protobuf;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>
/// Reads and writes libsignal's storage protobufs (SessionStructure, RecordStructure) field for field, so
/// records are stable across versions and readable by libsignal tooling.
/// </summary>
internal static class SessionStructureCodec
{
    // SessionStructure
    private const int FieldVersion = 1;
    private const int FieldLocalIdentity = 2;
    private const int FieldRemoteIdentity = 3;
    private const int FieldRootKey = 4;
    private const int FieldPreviousCounter = 5;
    private const int FieldSenderChain = 6;
    private const int FieldReceiverChains = 7;
    private const int FieldPendingPreKey = 9;
    private const int FieldRemoteRegistrationId = 10;
    private const int FieldLocalRegistrationId = 11;
    private const int FieldAliceBaseKey = 13;
    private const int FieldPendingKyberPreKey = 14;

    public static void WriteRecord(ProtoBufferWriter writer, SessionState? current, IReadOnlyList<SessionState> previous)
    {
        if (current is not null)
        {
            writer.WriteMessage(1, w => WriteState(w, current));
        }

        foreach (var state in previous)
        {
            writer.WriteMessage(2, w => WriteState(w, state));
        }
    }

    public static (SessionState? Current, List<SessionState> Previous) ReadRecord(ReadOnlySpan<byte> data)
    {
        SessionState? current = null;
        var previous = new List<SessionState>();
        try
        {
            var reader = new ProtoReader(data);
            while (reader.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                        current = ReadState(reader.ReadBytes(wire));
                        break;
                    case 2:
                        previous.Add(ReadState(reader.ReadBytes(wire)));
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (ProtoFormatException e)
        {
            throw new InvalidSessionException("Malformed session record: " + e.Message, e);
        }
        catch (InvalidKeyException e)
        {
            throw new InvalidSessionException("Session record holds an invalid key.", e);
        }

        return (current, previous);
    }

    public static void WriteState(ProtoBufferWriter w, SessionState s)
    {
        w.WriteUInt32(FieldVersion, s.Version);
        w.WriteBytes(FieldLocalIdentity, s.LocalIdentity.PublicKey.SerializedBytes);
        if (s.RemoteIdentity is not null)
        {
            w.WriteBytes(FieldRemoteIdentity, s.RemoteIdentity.PublicKey.SerializedBytes);
        }

        w.WriteBytes(FieldRootKey, s.RootKey);
        w.WriteUInt32(FieldPreviousCounter, s.PreviousCounter);
        if (s.Sender is { } sender)
        {
            w.WriteMessage(FieldSenderChain, c =>
            {
                c.WriteBytes(1, sender.RatchetKeyPair.PublicKey.SerializedBytes);
                var scalar = sender.RatchetKeyPair.PrivateKey.Serialize();
                c.WriteBytes(2, scalar);
                CryptographicOperations.ZeroMemory(scalar);
                WriteChainKey(c, sender.ChainKey);
            });
        }

        foreach (var chain in s.ReceiverChains)
        {
            w.WriteMessage(FieldReceiverChains, c =>
            {
                c.WriteBytes(1, chain.RatchetKey.SerializedBytes);
                WriteChainKey(c, chain.ChainKey);

                // libsignal keeps the newest skipped key first.
                for (int i = chain.MessageKeys.Count - 1; i >= 0; i--)
                {
                    var key = chain.MessageKeys[i];
                    c.WriteMessage(4, m =>
                    {
                        m.WriteUInt32(1, key.Index);
                        if (key.Seed is not null)
                        {
                            m.WriteBytes(5, key.Seed);
                        }
                        else if (key.Keys is { } keys)
                        {
                            m.WriteBytes(2, keys.CipherKey);
                            m.WriteBytes(3, keys.MacKey);
                            m.WriteBytes(4, keys.Iv);
                        }
                    });
                }
            });
        }

        if (s.PendingPreKey is { } pending)
        {
            w.WriteMessage(FieldPendingPreKey, p =>
            {
                if (pending.PreKeyId is { } preKeyId)
                {
                    p.WriteUInt32Always(1, preKeyId);
                }

                p.WriteBytes(2, pending.BaseKey.SerializedBytes);
                p.WriteInt32(3, unchecked((int)pending.SignedPreKeyId));
                p.WriteUInt64(4, pending.TimestampSeconds);
            });
        }

        w.WriteUInt32(FieldRemoteRegistrationId, s.RemoteRegistrationId);
        w.WriteUInt32(FieldLocalRegistrationId, s.LocalRegistrationId);
        w.WriteBytes(FieldAliceBaseKey, s.AliceBaseKey);
        if (s.PendingPreKey is { KyberPreKeyId: { } kyberId, KyberCiphertext: { } kyberCiphertext })
        {
            w.WriteMessage(FieldPendingKyberPreKey, p =>
            {
                p.WriteUInt32(1, kyberId);
                p.WriteBytes(2, kyberCiphertext);
            });
        }
    }

    private static void WriteChainKey(ProtoBufferWriter chain, ChainKey key) =>
        chain.WriteMessage(3, k =>
        {
            k.WriteUInt32(1, key.Index);
            k.WriteBytes(2, key.Key);
        });

    public static SessionState ReadState(ReadOnlySpan<byte> data)
    {
        uint version = 0, previousCounter = 0, remoteRegistrationId = 0, localRegistrationId = 0;
        byte[]? localIdentity = null, remoteIdentity = null, rootKey = null, aliceBaseKey = null;
        SenderChain? sender = null;
        var receivers = new List<ReceiverChain>();
        (uint? PreKeyId, uint SignedPreKeyId, byte[]? BaseKey, ulong Timestamp)? pending = null;
        (uint Id, byte[] Ciphertext)? pendingKyber = null;

        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case FieldVersion:
                    version = reader.ReadUInt32(wire);
                    break;
                case FieldLocalIdentity:
                    localIdentity = reader.ReadBytes(wire).ToArray();
                    break;
                case FieldRemoteIdentity:
                    remoteIdentity = reader.ReadBytes(wire).ToArray();
                    break;
                case FieldRootKey:
                    rootKey = reader.ReadBytes(wire).ToArray();
                    break;
                case FieldPreviousCounter:
                    previousCounter = reader.ReadUInt32(wire);
                    break;
                case FieldSenderChain:
                    sender = ReadSenderChain(reader.ReadBytes(wire));
                    break;
                case FieldReceiverChains:
                    receivers.Add(ReadReceiverChain(reader.ReadBytes(wire)));
                    break;
                case FieldPendingPreKey:
                    pending = ReadPendingPreKey(reader.ReadBytes(wire));
                    break;
                case FieldRemoteRegistrationId:
                    remoteRegistrationId = reader.ReadUInt32(wire);
                    break;
                case FieldLocalRegistrationId:
                    localRegistrationId = reader.ReadUInt32(wire);
                    break;
                case FieldAliceBaseKey:
                    aliceBaseKey = reader.ReadBytes(wire).ToArray();
                    break;
                case FieldPendingKyberPreKey:
                    pendingKyber = ReadPendingKyber(reader.ReadBytes(wire));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (localIdentity is null || rootKey is null || rootKey.Length != 32)
        {
            throw new InvalidSessionException("Session state lacks a local identity or root key.");
        }

        var state = new SessionState(
            version == 0 ? 2 : version,
            IdentityKey.Deserialize(localIdentity),
            remoteIdentity is null ? null : IdentityKey.Deserialize(remoteIdentity),
            rootKey,
            aliceBaseKey ?? [])
        {
            PreviousCounter = previousCounter,
            Sender = sender,
            RemoteRegistrationId = remoteRegistrationId,
            LocalRegistrationId = localRegistrationId,
        };
        state.ReceiverChains.AddRange(receivers);
        if (pending is { BaseKey: { } baseKey } p)
        {
            state.PendingPreKey = new PendingPreKey(
                p.PreKeyId,
                p.SignedPreKeyId,
                EcPublicKey.Deserialize(baseKey),
                p.Timestamp,
                pendingKyber?.Id,
                pendingKyber?.Ciphertext);
        }

        return state;
    }

    /// <summary>
    /// Reads the {uint32 = 1; bytes = 2} layout that ChainKey (index, key) and PendingKyberPreKey
    /// (id, ciphertext) share; the bytes are null when absent.
    /// </summary>
    private static (uint Number, byte[]? Bytes) ReadNumberAndBytes(ReadOnlySpan<byte> data)
    {
        uint number = 0;
        byte[]? bytes = null;
        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    number = reader.ReadUInt32(wire);
                    break;
                case 2:
                    bytes = reader.ReadBytes(wire).ToArray();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (number, bytes);
    }

    private static ChainKey ReadChainKey(ReadOnlySpan<byte> data)
    {
        var (index, key) = ReadNumberAndBytes(data);
        if (key is not { Length: 32 })
        {
            throw new InvalidSessionException("Chain key missing or of the wrong length.");
        }

        return new ChainKey(key, index);
    }

    private static SenderChain ReadSenderChain(ReadOnlySpan<byte> data)
    {
        byte[]? publicKey = null, privateKey = null;
        ChainKey? chainKey = null;
        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    publicKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 2:
                    privateKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 3:
                    chainKey = ReadChainKey(reader.ReadBytes(wire));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (publicKey is null || privateKey is null || chainKey is null)
        {
            throw new InvalidSessionException("Sender chain lacks its ratchet key pair or chain key.");
        }

        var pair = EcKeyPair.FromSerialized(publicKey, privateKey);
        CryptographicOperations.ZeroMemory(privateKey);
        return new SenderChain(pair, chainKey.Value);
    }

    private static ReceiverChain ReadReceiverChain(ReadOnlySpan<byte> data)
    {
        byte[]? publicKey = null;
        ChainKey? chainKey = null;
        var keys = new List<SkippedMessageKey>();
        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    publicKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 3:
                    chainKey = ReadChainKey(reader.ReadBytes(wire));
                    break;
                case 4:
                    keys.Add(ReadMessageKey(reader.ReadBytes(wire)));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (publicKey is null || chainKey is null)
        {
            throw new InvalidSessionException("Receiver chain lacks its ratchet key or chain key.");
        }

        keys.Reverse(); // stored newest first; kept oldest first in memory
        return new ReceiverChain(EcPublicKey.Deserialize(publicKey), chainKey.Value, keys.Count == 0 ? null : keys);
    }

    private static SkippedMessageKey ReadMessageKey(ReadOnlySpan<byte> data)
    {
        uint index = 0;
        byte[]? cipherKey = null, macKey = null, iv = null, seed = null;
        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    index = reader.ReadUInt32(wire);
                    break;
                case 2:
                    cipherKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 3:
                    macKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 4:
                    iv = reader.ReadBytes(wire).ToArray();
                    break;
                case 5:
                    seed = reader.ReadBytes(wire).ToArray();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (seed is { Length: 32 })
        {
            return new SkippedMessageKey(index, seed, null);
        }

        if (cipherKey is { Length: 32 } && macKey is { Length: 32 } && iv is { Length: 16 })
        {
            return new SkippedMessageKey(index, null, new MessageKeys(cipherKey, macKey, iv, index));
        }

        throw new InvalidSessionException("Skipped message key is incomplete.");
    }

    private static (uint? PreKeyId, uint SignedPreKeyId, byte[]? BaseKey, ulong Timestamp) ReadPendingPreKey(ReadOnlySpan<byte> data)
    {
        uint? preKeyId = null;
        uint signedPreKeyId = 0;
        byte[]? baseKey = null;
        ulong timestamp = 0;
        var reader = new ProtoReader(data);
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    preKeyId = reader.ReadUInt32(wire);
                    break;
                case 2:
                    baseKey = reader.ReadBytes(wire).ToArray();
                    break;
                case 3:
                    reader.Expect(wire, ProtoWireType.Varint);
                    signedPreKeyId = unchecked((uint)reader.ReadVarint());
                    break;
                case 4:
                    reader.Expect(wire, ProtoWireType.Varint);
                    timestamp = reader.ReadVarint();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (preKeyId, signedPreKeyId, baseKey, timestamp);
    }

    private static (uint Id, byte[] Ciphertext) ReadPendingKyber(ReadOnlySpan<byte> data)
    {
        var (id, ciphertext) = ReadNumberAndBytes(data);
        return (id, ciphertext ?? []);
    }
}
