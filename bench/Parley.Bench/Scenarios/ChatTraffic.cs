using System.Collections.Concurrent;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>Counters and histograms shared by every device of a one-to-one run.</summary>
internal sealed class ChatTraffic
{
    // Fields, not properties: updated with Interlocked from every receive loop.
#pragma warning disable CA1051 // plain counters
    public long Sent;
    public long Delivered;
    public long Receipts;
    public long UnknownAcks;
#pragma warning restore CA1051

    private readonly ConcurrentDictionary<string, long> _errors = new();
    private long _closed;
    private string? _firstClose;

    /// <summary>Send → recipient has the envelope.</summary>
    public LatencyRecorder EndToEnd { get; } = new();

    /// <summary>Send → SendResult (SENT: durable).</summary>
    public LatencyRecorder SentLatency { get; } = new();

    /// <summary>Set once the run is winding down, so closes from then on are expected.</summary>
    public bool Stopping { get; set; }

    public long Closed => Interlocked.Read(ref _closed);

    public string? FirstClose => _firstClose;

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public void Failed(ErrorCode code) => _errors.AddOrUpdate(code.ToString(), 1, (_, n) => n + 1);

    public void ConnectionClosed(WireConnection connection)
    {
        if (Stopping)
        {
            return;
        }
        Interlocked.Increment(ref _closed);
        Interlocked.CompareExchange(ref _firstClose, $"{(int?)connection.CloseStatus} {connection.CloseDescription}", null);
    }
}
