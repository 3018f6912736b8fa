using System.Diagnostics;
using HdrHistogram;

namespace Parley.Bench.Scenarios;

/// <summary>
/// A latency recorder in microseconds (1 µs to 60 s, 3 significant digits) that many threads
/// write while one thread takes stable snapshots of an interval (HdrHistogram's Recorder).
/// </summary>
internal sealed class LatencyRecorder
{
    private const long Highest = 60_000_000;
    private readonly Recorder _recorder = HistogramFactory.With64BitBucketSize()
        .WithValuesFrom(1).WithValuesUpTo(Highest).WithPrecisionOf(3)
        .WithThreadSafeWrites().WithThreadSafeReads().Create();

    /// <summary>Records the time from <paramref name="startTimestamp"/> (Stopwatch ticks) to now.</summary>
    public void RecordSince(long startTimestamp)
    {
        long micros = (Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000 / Stopwatch.Frequency;
        _recorder.RecordValue(Math.Clamp(micros, 1, Highest));
    }

    /// <summary>Starts a new interval, dropping what was recorded so far (the warm-up).</summary>
    public void Restart() => _recorder.GetIntervalHistogram();

    /// <summary>What was recorded since the last <see cref="Restart"/> or snapshot; recording goes on into a new interval.</summary>
    public LatencySnapshot Snapshot() => new(_recorder.GetIntervalHistogram());
}
