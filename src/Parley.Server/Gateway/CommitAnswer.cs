using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Messaging;

namespace Parley.Server.Gateway;

/// <summary>
/// The answer to a request that waits for a group commit (a send's SENT, an ack's AckResult),
/// built by a continuation that runs right on the commit: the thousands of requests waiting for
/// one commit then hold one small object each, not a task and async state machines.
/// </summary>
internal abstract partial class CommitAnswer(ILogger logger, DeviceConnection connection, ulong requestId, RequestBudget pending, int bytes)
{
    private Task? _stored;

    /// <summary>
    /// Answers once <paramref name="stored"/> completes (at once if it has), on the completing
    /// thread: a bare awaiter continuation, lighter than ContinueWith's continuation task.
    /// </summary>
    public void After(Task stored)
    {
        _stored = stored;
        if (stored.IsCompleted)
        {
            Complete();
            return;
        }
        stored.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(Complete);
    }

    /// <summary>Queues <paramref name="answer"/> for the connection and frees the request's slot.</summary>
    public void Answer(ServerFrame answer)
    {
        answer.RequestId = requestId;
        if (!connection.TrySend(answer))
        {
            connection.RequestClose(CloseCodes.Policy, "not reading responses");
        }
        pending.Release(bytes);
    }

    /// <summary>The frame for a request the store has made durable.</summary>
    protected abstract ServerFrame Durable(Task stored);

    private void Complete()
    {
        var stored = _stored!;
        if (stored.IsCompletedSuccessfully)
        {
            Answer(Durable(stored));
            return;
        }
        LogFailed(logger, stored.Exception?.GetBaseException(), GetType().Name);
        Answer(MessageRouter.ServerError());
    }

    [LoggerMessage(LogLevel.Error, "Storing a request failed ({Kind})")]
    private static partial void LogFailed(ILogger logger, Exception? e, string kind);
}
