namespace Parley.Server.Messaging;

/// <summary>Receives envelopes right after they are durable, in commit order, on the committing thread.</summary>
public interface IEnvelopeSink
{
    /// <summary>Must be fast and never block: it runs inside the group-commit loop.</summary>
    void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes);

    /// <summary>
    /// Called on the committing thread before a commit hands out its envelopes and answers; the
    /// sink may hold the wake-ups they cause until <see cref="EndHandOff"/>, which always follows.
    /// </summary>
    void BeginHandOff()
    {
    }

    /// <summary>Called once the commit's envelopes and answers are handed out.</summary>
    void EndHandOff()
    {
    }
}
