using Google.Protobuf;
using Parley.Protocol;
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

    /// <summary>
    /// Offers each envelope to its device's connection. A run of entries with the same envelope (a
    /// fan-out: one object for every recipient device) is encoded once, and every connection writes
    /// those bytes instead of serializing its own copy.
    /// </summary>
    public void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes)
    {
        Envelope? shared = null;
        byte[]? frame = null;
        for (int i = 0; i < envelopes.Count; i++) // by index: foreach over the interface would box an enumerator
        {
            var queued = envelopes[i];
            if (!ReferenceEquals(queued.Envelope, shared))
            {
                bool run = i + 1 < envelopes.Count && ReferenceEquals(envelopes[i + 1].Envelope, queued.Envelope);
                shared = run ? queued.Envelope : null;
                frame = run ? new ServerFrame { Envelope = queued.Envelope }.ToByteArray() : null;
            }
            if (registry.Find(queued.DeviceKey) is { } connection)
            {
                connection.OfferEnvelope(queued.Envelope, frame);
            }
            else
            {
                push?.OnQueued(queued.DeviceKey, queued.Envelope.Kind);
            }
        }
    }
}
