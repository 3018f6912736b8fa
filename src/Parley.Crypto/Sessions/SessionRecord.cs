using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Protobuf;

namespace Parley.Crypto.Sessions;

/// <summary>
/// Everything known about the session with one remote device: the current state and up to
/// <see cref="ProtocolLimits.ArchivedStatesMaxLength"/> previous ones (so late messages of a replaced session
/// still decrypt). Serializes as libsignal's RecordStructure protobuf.
/// </summary>
public sealed class SessionRecord
{
    private SessionState? _current;
    private List<SessionState> _previous;

    /// <summary>Creates an empty record (no session yet).</summary>
    public SessionRecord()
    {
        _previous = [];
    }

    internal SessionRecord(SessionState state)
    {
        _current = state;
        _previous = [];
    }

    private SessionRecord(SessionState? current, List<SessionState> previous)
    {
        _current = current;
        _previous = previous;
    }

    /// <summary>Whether there is a current session state.</summary>
    public bool HasCurrentState => _current is not null;

    /// <summary>The current session's version (3 = X3DH, 4 = PQXDH); throws <see cref="NoSessionException"/> without one.</summary>
    public uint SessionVersion => RequireCurrent().Version;

    /// <summary>The remote device's registration id in the current session.</summary>
    public uint RemoteRegistrationId => RequireCurrent().RemoteRegistrationId;

    /// <summary>This device's registration id as recorded in the current session.</summary>
    public uint LocalRegistrationId => RequireCurrent().LocalRegistrationId;

    /// <summary>The remote identity of the current session, if known.</summary>
    public IdentityKey? RemoteIdentityKey => _current?.RemoteIdentity;

    /// <summary>This device's identity as recorded in the current session.</summary>
    public IdentityKey? LocalIdentityKey => _current?.LocalIdentity;

    /// <summary>Number of archived (previous) session states.</summary>
    public int PreviousStateCount => _previous.Count;

    internal SessionState? Current
    {
        get => _current;
        set => _current = value;
    }

    internal IReadOnlyList<SessionState> PreviousStates => _previous;

    /// <summary>Whether the current session can encrypt now (it has a sending chain and is not a stale unanswered PreKey session).</summary>
    public bool HasUsableSenderChain(DateTimeOffset now)
    {
        if (_current?.Sender is null)
        {
            return false;
        }

        if (_current.PendingPreKey is { } pending)
        {
            var created = DateTimeOffset.FromUnixTimeSeconds((long)pending.TimestampSeconds);
            return created + ProtocolLimits.MaxUnacknowledgedSessionAge >= now;
        }

        return true;
    }

    /// <summary>Moves the current state into the archive (for example to force a new session); no-op when there is none.</summary>
    public void ArchiveCurrentState()
    {
        if (_current is null)
        {
            return;
        }

        var archived = _current.Clone();
        archived.PendingPreKey = null;
        _previous.Insert(0, archived);
        if (_previous.Count > ProtocolLimits.ArchivedStatesMaxLength)
        {
            _previous.RemoveAt(_previous.Count - 1);
        }

        _current = null;
    }

    /// <summary>A copy that shares nothing mutable with this record.</summary>
    public SessionRecord Clone()
    {
        // Archived states are never changed in place (a successful decrypt replaces them), so sharing them is safe.
        return new SessionRecord(_current?.Clone(), [.. _previous]);
    }

    /// <summary>RecordStructure protobuf bytes; they contain session secrets.</summary>
    public byte[] Serialize()
    {
        var writer = new ProtoBufferWriter(1024);
        SessionStructureCodec.WriteRecord(writer, _current, _previous);
        var result = writer.ToArray();
        writer.Clear();
        return result;
    }

    /// <summary>Parses RecordStructure bytes; corrupt input throws <see cref="InvalidSessionException"/>.</summary>
    public static SessionRecord Deserialize(ReadOnlySpan<byte> serialized)
    {
        var (current, previous) = SessionStructureCodec.ReadRecord(serialized);
        return new SessionRecord(current, previous);
    }

    internal void PromoteState(SessionState state)
    {
        ArchiveCurrentState();
        _current = state;
    }

    internal void PromoteOldSession(int index, SessionState updated)
    {
        _previous.RemoveAt(index);
        PromoteState(updated);
    }

    /// <summary>Makes the state created by the PreKey message with this base key current, if there is one; true if found.</summary>
    internal bool PromoteMatchingSession(uint version, ReadOnlySpan<byte> aliceBaseKey)
    {
        if (_current is not null && _current.Version == version && CryptographicOperations.FixedTimeEquals(aliceBaseKey, _current.AliceBaseKey))
        {
            return true;
        }

        for (int i = 0; i < _previous.Count; i++)
        {
            var state = _previous[i];
            if (state.Version == version && CryptographicOperations.FixedTimeEquals(aliceBaseKey, state.AliceBaseKey))
            {
                PromoteOldSession(i, state.Clone());
                return true;
            }
        }

        return false;
    }

    private SessionState RequireCurrent() => _current ?? throw new NoSessionException("The record has no current session.");

    /// <inheritdoc />
    public override string ToString() => $"SessionRecord(current={(_current is null ? "none" : $"v{_current.Version}")}, previous={_previous.Count})";
}
