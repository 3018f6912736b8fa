using Microsoft.Extensions.Logging;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>AckResult for an ack: how many seqs were acked, and the ones not in flight on this connection.</summary>
internal sealed class AckAnswer(int acked, List<ulong>? unknown, ILogger logger, DeviceConnection connection, ulong requestId,
    RequestBudget pending, int bytes)
    : CommitAnswer(logger, connection, requestId, pending, bytes)
{
    protected override ServerFrame Durable(Task stored)
    {
        var result = new AckResult { Acked = (uint)acked };
        if (unknown is not null)
        {
            result.UnknownSeqs.AddRange(unknown);
        }
        return new ServerFrame { AckResult = result };
    }
}
