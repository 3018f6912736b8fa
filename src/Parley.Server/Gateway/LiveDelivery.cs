using Parley.Server.Configuration;
using Parley.Server.Messaging;
using Parley.Server.Push;

namespace Parley.Server.Gateway;

/// <summary>
/// Hands freshly committed envelopes to the recipient devices connected to this node; for a
/// device with no connection it tells the push scheduler (which only notes it: no I/O here).
/// </summary>
public sealed class LiveDelivery(ConnectionRegistry registry, ParleyOptions options, PushScheduler? push = null) : IEnvelopeSink
{
    /// <summary>Holds the send loops' wake-ups: a connection owed several things by one commit wakes once and writes once.</summary>
    public void BeginHandOff() => AsyncSignal.HoldOnThisThread();

    /// <summary>Wakes the held send loops; a few are run right here, on the commit thread (<see cref="ParleyOptions.InlineSendWakes"/>).</summary>
    public void EndHandOff() => AsyncSignal.ReleaseHeld(options.InlineSendWakes);

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
