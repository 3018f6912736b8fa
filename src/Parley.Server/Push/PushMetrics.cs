using System.Diagnostics.Metrics;

namespace Parley.Server.Push;

/// <summary>Counters of the push worker, as instruments on the server's "Parley.Server" meter.</summary>
public sealed class PushMetrics
{
    /// <summary>The meter every server instrument lives on.</summary>
    public const string MeterName = "Parley.Server";

    public PushMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        Sent = meter.CreateCounter<long>("parley.push.sent", "{push}", "Pushes a push service or gateway accepted");
        Failed = meter.CreateCounter<long>("parley.push.failed", "{push}", "Pushes given up: refused, subscription gone, or retries spent");
        Dropped = meter.CreateCounter<long>("parley.push.dropped", "{push}", "Pushes not queued because the push queue was full");
    }

    public Counter<long> Sent { get; }

    public Counter<long> Failed { get; }

    public Counter<long> Dropped { get; }
}
