namespace Parley.Server.Messaging;

/// <summary>Receives envelopes right after they are durable, in commit order, on the committing thread.</summary>
public interface IEnvelopeSink
{
    /// <summary>Must be fast and never block: it runs inside the group-commit loop.</summary>
    void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes);
}
