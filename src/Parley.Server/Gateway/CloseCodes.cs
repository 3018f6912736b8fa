using System.Net.WebSockets;

namespace Parley.Server.Gateway;

/// <summary>WebSocket close codes the server uses (docs/protocol.md).</summary>
public static class CloseCodes
{
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;
    public const WebSocketCloseStatus UnsupportedData = WebSocketCloseStatus.InvalidMessageType;
    public const WebSocketCloseStatus Policy = WebSocketCloseStatus.PolicyViolation;
    public const WebSocketCloseStatus TooBig = WebSocketCloseStatus.MessageTooBig;

    /// <summary>Server full: try again later.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;

    /// <summary>The same device connected again; this older connection is dropped.</summary>
    public const WebSocketCloseStatus Replaced = (WebSocketCloseStatus)4001;

    /// <summary>Nothing received for longer than the idle timeout.</summary>
    public const WebSocketCloseStatus Idle = (WebSocketCloseStatus)4002;
}
