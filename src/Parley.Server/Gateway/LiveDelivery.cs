using Parley.Server.Messaging;
using Parley.Server.Push;

namespace Parley.Server.Gateway;

/// <summary>
/// Hands freshly committed envelopes to the recipient devices connected to this node; for a
/// device with no connection it tells the push scheduler (which only notes it: no I/O here).
/// </summary>
public sealed class LiveDelivery(ConnectionRegistry registry, PushScheduler? push = null) : IEnvelopeSink
{
    /// <summary>Holds the send loops' wake-ups: a connection owed several things by one commit wakes once and writes once.</summary>
    public void BeginHandOff() => AsyncSignal.HoldOnThisThread();

    public void EndHandOff() => AsyncSignal.ReleaseHeld();

    public void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes)
    {
        foreach (var queued in envelopes)
        {
            if (registry.Find(queued.DeviceKey) is { } connection)
            {
                connection.OfferEnvelope(queued.Envelope);
            }
            else
            {
                push?.OnQueued(queued.DeviceKey, queued.Envelope.Kind);
            }
        }
    }
}
