using Parley.Server.Messaging;

namespace Parley.Server.Gateway;

/// <summary>Hands freshly committed envelopes to the recipient devices connected to this node.</summary>
public sealed class LiveDelivery(ConnectionRegistry registry) : IEnvelopeSink
{
    public void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes)
    {
        foreach (var queued in envelopes)
        {
            registry.Find(queued.DeviceKey)?.OfferEnvelope(queued.Envelope);
        }
    }
}
