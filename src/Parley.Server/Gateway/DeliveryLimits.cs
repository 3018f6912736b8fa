using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>What one connection's send side may hold and how long it may wait (see <see cref="LimitOptions"/> for why each has its value).</summary>
/// <param name="MaxInFlight">Envelopes sent and not yet acked.</param>
/// <param name="MaxInFlightBytes">Bytes of those envelopes; one envelope always fits, however large.</param>
/// <param name="MaxQueued">Frames waiting in the control queue, and live envelopes waiting.</param>
/// <param name="SendTimeout">How long one flush may wait for the peer to read before the connection is aborted.</param>
public readonly record struct DeliveryLimits(int MaxInFlight, long MaxInFlightBytes, int MaxQueued, TimeSpan SendTimeout)
{
    public static DeliveryLimits From(LimitOptions limits) =>
        new(limits.MaxInFlight, limits.MaxInFlightBytes, limits.OutboundQueueFrames, TimeSpan.FromSeconds(limits.SendTimeoutSeconds));
}
