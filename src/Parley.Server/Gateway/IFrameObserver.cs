namespace Parley.Server.Gateway;

/// <summary>
/// Sees every WebSocket frame's bytes as they cross the gateway, both ways. Off unless one is
/// registered (tests use it to prove the server only ever handles ciphertext; an operator could
/// use it for a wire trace). Must be fast and must not keep the span.
/// </summary>
public interface IFrameObserver
{
    void OnFrame(bool inbound, ReadOnlySpan<byte> frame);
}
