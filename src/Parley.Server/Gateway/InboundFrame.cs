using System.Net.WebSockets;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>
/// One inbound event. The payload lives in the socket's receive buffer and is valid only until
/// the next read.
/// </summary>
public readonly record struct InboundFrame(
    InboundKind Kind,
    ReadOnlyMemory<byte> Payload = default,
    WebSocketCloseStatus? CloseStatus = null,
    string Reason = "",
    ErrorCode Code = ErrorCode.BadRequest);
