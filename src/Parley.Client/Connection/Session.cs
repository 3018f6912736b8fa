using System.Threading.Channels;
using Parley.Protocol;

namespace Parley.Client.Connection;

/// <summary>One authenticated connection and what belongs to it: its Welcome, its drain marker and its acks to send.</summary>
internal sealed class Session
{
    /// <summary>The socket; set right after it opens.</summary>
    public FrameConnection Connection { get; set; } = null!;

    /// <summary>The server's Welcome.</summary>
    public Welcome Welcome { get; set; } = null!;

    /// <summary>Completes at this connection's QueueEmpty; faults when the connection ends before it.</summary>
    public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Seqs of envelopes already committed to the store, waiting to be acked (batched by the ack pump).</summary>
    public Channel<ulong> Acks { get; } = Channel.CreateUnbounded<ulong>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
}
