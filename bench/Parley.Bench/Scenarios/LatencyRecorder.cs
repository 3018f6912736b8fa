using System.Diagnostics;
using HdrHistogram;

namespace Parley.Bench.Scenarios;

/// <summary>A thread-safe latency histogram in microseconds (1 µs to 60 s, 3 significant digits).</summary>
internal sealed class LatencyRecorder
{
    private const long Highest = 60_000_000;
    private readonly LongConcurrentHistogram _histogram = new(1, Highest, 3);

    /// <summary>Records the time from <paramref name="startTimestamp"/> (Stopwatch ticks) to now.</summary>
    public void RecordSince(long startTimestamp)
    {
        long micros = (Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000 / Stopwatch.Frequency;
        _histogram.RecordValue(Math.Clamp(micros, 1, Highest));
    }

    public long Count => _histogram.TotalCount;

    /// <summary>The value at <paramref name="percentile"/> (0..100) in milliseconds.</summary>
    public double Milliseconds(double percentile) => _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMilliseconds => _histogram.TotalCount == 0 ? 0 : _histogram.GetMaxValue() / 1000.0;

    public void Reset() => _histogram.Reset();

    /// <summary>"p50 / p99 / p99.9 / max" in ms.</summary>
    public string Summary() =>
        FormattableString.Invariant($"p50 {Milliseconds(50):0.00}  p99 {Milliseconds(99):0.00}  p99.9 {Milliseconds(99.9):0.00}  max {MaxMilliseconds:0.00} ms  (n={Count})");
}
