using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>
/// Counters of one event loop's devices in a one-to-one run. One thread (the loop's) writes
/// them; the scenario reads them with <see cref="Volatile"/> and adds up the loops.
/// </summary>
internal sealed class ChatTraffic(LatencyRecorder endToEnd, LatencyRecorder sentLatency, bool ackRequests)
{
    // Fields, not properties: incremented in the loop's hot path, read with Volatile.Read.
#pragma warning disable CA1051 // plain counters
    public long Sent;
    public long Delivered;
    public long Receipts;
    public long UnknownAcks;

    /// <summary>Ack frames written (one per device per loop pass with something to ack) and the seqs they carried.</summary>
    public long AckFrames;
    public long AckedSeqs;

    /// <summary>Lazy receipt acks: receipt seqs that went in a pass that wrote a message ack or a send anyway, and those that went for want of one (deadline, cap, end of sending).</summary>
    public long ReceiptAcksRode;
    public long ReceiptAcksAlone;

    /// <summary>Sends awaiting SENT (or an Error).</summary>
    public long InFlight;

    /// <summary>Paced runs: send tokens handed out, and those spent on a send.</summary>
    public long TokensIssued;
    public long TokensSpent;
#pragma warning restore CA1051

    private readonly ConcurrentDictionary<string, long> _errors = new();
    private long _closed;
    private string? _firstClose;
    private volatile bool _stopping;

    /// <summary>group-fanout: told of every group message a device received (its body), on the loop's thread.</summary>
    public Action<ReadOnlySpan<byte>>? GroupDelivered { get; init; }

    /// <summary>Acks carry a request id (and get an AckResult) instead of being fire-and-forget.</summary>
    public bool AckRequests { get; } = ackRequests;

    /// <summary>Acks of receipt envelopes wait for a pass that writes something else (<see cref="ChatDevice"/>), as the SDK's do.</summary>
    public bool LazyReceiptAcks { get; init; }

    /// <summary>Lazy receipt acks: the longest a receipt's seq is held (the SDK's ParleyClientOptions.ReceiptAckDelay, 1 s, by default).</summary>
    public long ReceiptAckDelayMs { get; init; } = 1000;

    /// <summary>Send → recipient has the envelope (shared by all loops).</summary>
    public LatencyRecorder EndToEnd { get; } = endToEnd;

    /// <summary>Send → SendResult (SENT: durable; shared by all loops).</summary>
    public LatencyRecorder SentLatency { get; } = sentLatency;

    /// <summary>Set once the run is winding down, so closes from then on are expected.</summary>
    public bool Stopping
    {
        get => _stopping;
        set => _stopping = value;
    }

    public long Closed => Interlocked.Read(ref _closed);

    public string? FirstClose => _firstClose;

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public void Failed(ErrorCode code) => _errors.AddOrUpdate(code.ToString(), 1, (_, n) => n + 1);

    /// <summary>Counts a close the run did not ask for; <paramref name="why"/> is the close code and reason, or what failed.</summary>
    public void ConnectionClosed(string why)
    {
        if (Stopping)
        {
            return;
        }
        Interlocked.Increment(ref _closed);
        Interlocked.CompareExchange(ref _firstClose, why, null);
    }
}
