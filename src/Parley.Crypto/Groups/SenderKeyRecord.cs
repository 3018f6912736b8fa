using Google.Protobuf;
using Parley.Crypto.Groups.Proto;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Groups;

/// <summary>
/// Everything one device knows about one sender's key for one distribution: up to
/// <see cref="SenderKeyLimits.MaxStates"/> chains, newest first. Serializes to libsignal's
/// SenderKeyRecordStructure layout for storage.
/// </summary>
public sealed class SenderKeyRecord
{
    private readonly List<SenderKeyState> _states = [];

    /// <summary>Creates a record with no chains.</summary>
    public SenderKeyRecord()
    {
    }

    /// <summary>True when the record holds no chain.</summary>
    public bool IsEmpty => _states.Count == 0;

    internal IReadOnlyList<SenderKeyState> States => _states;

    /// <summary>The newest chain, used for sending.</summary>
    internal SenderKeyState? Current => _states.Count > 0 ? _states[0] : null;

    internal SenderKeyState? StateFor(uint chainId) => _states.Find(s => s.ChainId == chainId);

    /// <summary>
    /// Adds a chain in front. A chain already known with the same id and signing key is kept as
    /// it is (so a repeated distribution message cannot rewind it); one with the same id and
    /// another key is dropped; the oldest chains beyond the bound go.
    /// </summary>
    internal void AddState(byte messageVersion, uint chainId, uint iteration, byte[] chainKey, EcPublicKey signingKey, EcPrivateKey? signingPrivateKey)
    {
        int existingIndex = _states.FindIndex(s => s.ChainId == chainId && s.SigningKey.Equals(signingKey));
        SenderKeyState? existing = existingIndex >= 0 ? _states[existingIndex] : null;
        _states.RemoveAll(s => s.ChainId == chainId);
        SenderKeyState state = existing ?? new SenderKeyState(messageVersion, chainId, new SenderChainKey(iteration, chainKey), signingKey, signingPrivateKey);
        while (_states.Count >= SenderKeyLimits.MaxStates)
        {
            _states.RemoveAt(_states.Count - 1);
        }

        _states.Insert(0, state);
    }

    /// <summary>Serializes the record for a store.</summary>
    public byte[] Serialize()
    {
        var record = new SenderKeyRecordBody();
        foreach (SenderKeyState state in _states)
        {
            var body = new SenderKeyStateBody
            {
                MessageVersion = state.MessageVersion,
                ChainId = state.ChainId,
                SenderChainKey = new SenderKeyStateBody.Types.ChainKey
                {
                    Iteration = state.ChainKey.Iteration,
                    Seed = ByteString.CopyFrom(state.ChainKey.Seed),
                },
                SenderSigningKey = new SenderKeyStateBody.Types.SigningKey
                {
                    Public = ByteString.CopyFrom(state.SigningKey.Serialize()),
                    Private = state.SigningPrivateKey is null ? ByteString.Empty : ByteString.CopyFrom(state.SigningPrivateKey.Serialize()),
                },
            };
            foreach ((uint iteration, byte[] seed) in state.SkippedKeys)
            {
                body.SenderMessageKeys.Add(new SenderKeyStateBody.Types.MessageKey { Iteration = iteration, Seed = ByteString.CopyFrom(seed) });
            }

            record.SenderKeyStates.Add(body);
        }

        return record.ToByteArray();
    }

    /// <summary>Reads a record written by <see cref="Serialize"/>.</summary>
    /// <exception cref="InvalidMessageException">The bytes are not a valid record.</exception>
    public static SenderKeyRecord Deserialize(ReadOnlySpan<byte> serialized)
    {
        SenderKeyRecordBody body;
        try
        {
            body = SenderKeyRecordBody.Parser.ParseFrom(serialized);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidMessageException("Malformed sender key record.", e);
        }

        var record = new SenderKeyRecord();
        foreach (SenderKeyStateBody state in body.SenderKeyStates)
        {
            if (state.SenderChainKey is null || state.SenderSigningKey is null)
            {
                throw new InvalidMessageException("Sender key record lacks a chain or signing key.");
            }

            EcPrivateKey? signingPrivate = state.SenderSigningKey.Private.IsEmpty ? null : EcPrivateKey.Deserialize(state.SenderSigningKey.Private.Span);
            // Version 0 is how the first records (before the field existed) read back: they were version 3.
            byte version = state.MessageVersion == 0 ? SenderKeyLimits.MessageVersion : (byte)state.MessageVersion;
            var restored = new SenderKeyState(
                version,
                state.ChainId,
                new SenderChainKey(state.SenderChainKey.Iteration, state.SenderChainKey.Seed.ToByteArray()),
                EcPublicKey.Deserialize(state.SenderSigningKey.Public.Span),
                signingPrivate);
            foreach (SenderKeyStateBody.Types.MessageKey key in state.SenderMessageKeys)
            {
                restored.AddSkipped(key.Iteration, key.Seed.ToByteArray());
            }

            record._states.Add(restored);
        }

        return record;
    }
}
