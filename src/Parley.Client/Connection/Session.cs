using System.Threading.Channels;
using Parley.Protocol;

namespace Parley.Client.Connection;

/// <summary>One authenticated connection and what belongs to it: its Welcome, its drain marker and its acks to send.</summary>
internal sealed class Session
{
    private readonly Lock _gate = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _ackWaiters = [];
    private long _queued;
    private long _acked;

    /// <summary>The socket; set right after it opens.</summary>
    public FrameConnection Connection { get; set; } = null!;

    /// <summary>The server's Welcome.</summary>
    public Welcome Welcome { get; set; } = null!;

    /// <summary>Completes at this connection's QueueEmpty; faults when the connection ends before it.</summary>
    public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Seqs of envelopes already committed to the store, waiting to be acked (batched by the ack pump).</summary>
    public Channel<PendingAck> Acks { get; } = Channel.CreateUnbounded<PendingAck>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Queues the ack of an envelope that is already stored, to go out with the pump's next Ack.</summary>
    public void QueueAck(ulong seq)
    {
        if (Acks.Writer.TryWrite(new PendingAck(seq, CanWait: false)))
        {
            Interlocked.Increment(ref _queued);
        }
    }

    /// <summary>
    /// Queues the ack of a stored receipt envelope, which the pump may hold back to ride with a later
    /// ack. It produces no receipt, so <see cref="AckedSoFarAsync"/> never waits for it.
    /// </summary>
    public void QueueReceiptAck(ulong seq) => Acks.Writer.TryWrite(new PendingAck(seq, CanWait: true));

    /// <summary>Records that an Ack carrying <paramref name="count"/> seqs queued with <see cref="QueueAck"/> has been written to the connection.</summary>
    public void Acked(int count)
    {
        lock (_gate)
        {
            _acked += count;
            for (var i = _ackWaiters.Count - 1; i >= 0; i--)
            {
                if (_ackWaiters[i].Target <= _acked)
                {
                    _ackWaiters[i].Done.TrySetResult();
                    _ackWaiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Completes once every ack queued so far with <see cref="QueueAck"/> has been written, so a
    /// request sent after it is ordered behind them: the server takes frames in order, and queues an
    /// ack's DELIVERED before it reads the next frame (a READ must not overtake the DELIVERED its ack
    /// produces). Receipt acks the pump holds back are not waited for: they produce nothing to overtake.
    /// Also completes when the connection ends.
    /// </summary>
    public Task AckedSoFarAsync()
    {
        lock (_gate)
        {
            var target = Interlocked.Read(ref _queued);
            if (_acked >= target || Connection.Completion.IsCompleted)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _ackWaiters.Add((target, done));
            return done.Task;
        }
    }

    /// <summary>Releases everyone waiting on acks: the connection is over.</summary>
    public void ReleaseAckWaiters()
    {
        lock (_gate)
        {
            foreach (var (_, done) in _ackWaiters)
            {
                done.TrySetResult();
            }
            _ackWaiters.Clear();
        }
    }
}
