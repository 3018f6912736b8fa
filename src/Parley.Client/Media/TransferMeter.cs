using System.Diagnostics;

namespace Parley.Client.Media;

/// <summary>Measures one attempt of a transfer and turns its byte counts into progress events.</summary>
internal sealed class TransferMeter(string messageId, TransferDirection direction, string fileName, long total, Action<TransferProgressEventArgs> raise)
{
    private readonly Stopwatch _clock = new();
    private long _start;

    /// <summary>The attempt begins at <paramref name="offset"/> (above 0 when it resumes); reports it.</summary>
    public void Start(long offset)
    {
        _start = offset;
        _clock.Restart();
        Report(offset);
    }

    /// <summary>Reports <paramref name="done"/> bytes held so far.</summary>
    public void Report(long done) => raise(new TransferProgressEventArgs(messageId, direction, fileName, done, total,
        (done - _start) / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3), _start));
}
