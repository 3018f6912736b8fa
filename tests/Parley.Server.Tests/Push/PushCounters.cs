using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Push;

namespace Parley.Server.Tests.Push;

/// <summary>Totals of one server's push counters, read the way an exporter reads them: through a MeterListener.</summary>
public sealed class PushCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public PushCounters(RunningServer server)
    {
        var factory = server.App.Services.GetRequiredService<IMeterFactory>();
        _ = server.App.Services.GetRequiredService<PushMetrics>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PushMetrics.MeterName && instrument.Meter.Scope == factory && instrument.Name.StartsWith("parley.push.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        _listener.Start();
    }

    public long Sent => _totals.GetValueOrDefault("parley.push.sent");

    public long Failed => _totals.GetValueOrDefault("parley.push.failed");

    public long Dropped => _totals.GetValueOrDefault("parley.push.dropped");

    public void Dispose() => _listener.Dispose();
}
