namespace Parley.Server.Gateway;

/// <summary>What one read from a <see cref="PipeWebSocket"/> produced.</summary>
public enum InboundKind
{
    /// <summary>A whole binary message: <see cref="InboundFrame.Payload"/>.</summary>
    Message,

    /// <summary>A ping: answer it with a pong carrying <see cref="InboundFrame.Payload"/>.</summary>
    Ping,

    /// <summary>The peer sent a close frame (<see cref="InboundFrame.CloseStatus"/>, if it gave one).</summary>
    Close,

    /// <summary>The transport ended (or the read was cancelled) without a close frame.</summary>
    Gone,

    /// <summary>The peer broke the WebSocket or Parley framing rules; close with <see cref="InboundFrame.CloseStatus"/>.</summary>
    Violation,
}
