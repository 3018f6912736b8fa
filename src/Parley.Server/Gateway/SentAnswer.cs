using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Messaging;

namespace Parley.Server.Gateway;

/// <summary>SENT for a send: duplicate when the store had the message id already.</summary>
internal sealed class SentAnswer(MessageRouter router, ByteString messageId, ILogger logger, DeviceConnection connection, ulong requestId,
    RequestBudget pending, int bytes)
    : CommitAnswer(logger, connection, requestId, pending, bytes)
{
    protected override ServerFrame Durable(Task stored) => router.Sent(messageId, ((Task<bool>)stored).Result);
}
