using HdrHistogram;

namespace Parley.Bench.Scenarios;

/// <summary>A finished latency histogram (microseconds), read in milliseconds.</summary>
internal sealed class LatencySnapshot(HistogramBase histogram)
{
    public long Count => histogram.TotalCount;

    /// <summary>The value at <paramref name="percentile"/> (0..100) in milliseconds; 0 when empty.</summary>
    public double Milliseconds(double percentile) => Count == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMilliseconds => Count == 0 ? 0 : histogram.GetMaxValue() / 1000.0;

    /// <summary>"p50 / p99 / p99.9 / max" in ms.</summary>
    public string Summary() =>
        FormattableString.Invariant($"p50 {Milliseconds(50):0.00}  p99 {Milliseconds(99):0.00}  p99.9 {Milliseconds(99.9):0.00}  max {MaxMilliseconds:0.00} ms  (n={Count})");
}
