using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Client.Connection;

/// <summary>
/// One WebSocket to the server: sends <see cref="ClientFrame"/>s (one binary message each), matches
/// responses to requests by request id, and hands pushes to a callback in arrival order. Frames that
/// are text, too big or unparsable end the connection. When it ends, every pending request fails
/// with a connection-lost <see cref="ParleyException"/>.
/// </summary>
internal sealed class FrameConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Func<ServerFrame, Task> _onPush;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ServerFrame>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private long _nextRequestId;
    private Task _receiveLoop = Task.CompletedTask;
    private volatile bool _closed;

    private FrameConnection(ClientWebSocket socket, Func<ServerFrame, Task> onPush)
    {
        _socket = socket;
        _onPush = onPush;
    }

    /// <summary>Ends when the connection is closed for any reason; never faults.</summary>
    public Task Completion => _receiveLoop;

    /// <summary>The close status the server sent, if it closed the socket.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>The error frame pushed (request id 0) just before the server closed, if any.</summary>
    public Error? LastPushedError { get; private set; }

    /// <summary>Why the connection ended, when it was not a clean close.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Opens the WebSocket and starts reading; <paramref name="onPush"/> runs for each push, one at a time.</summary>
    public static async Task<FrameConnection> OpenAsync(Uri webSocketUri, Func<ServerFrame, Task> onPush, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        if (!OperatingSystem.IsBrowser())
        {
            // Heartbeats are protocol Pings (the server's idle timer counts frames), not WebSocket
            // pings. The browser's WebSocket sends none and cannot be told to.
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
        }
        try
        {
            await socket.ConnectAsync(webSocketUri, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new FrameConnection(socket, onPush);
        connection._receiveLoop = Task.Run(connection.ReceiveLoopAsync, CancellationToken.None);
        return connection;
    }

    /// <summary>
    /// Sends a request and waits for its response. Throws <see cref="ParleyException"/> for an
    /// <c>Error</c> answer, or a connection-lost one when the connection ends first.
    /// </summary>
    public async Task<ServerFrame> RequestAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextRequestId);
        frame.RequestId = id;
        var answer = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        if (_closed)
        {
            _pending.TryRemove(id, out _);
            throw ParleyException.ConnectionLost("Not connected.");
        }
        try
        {
            await SendAsync(frame, cancellationToken);
            var response = await answer.Task.WaitAsync(cancellationToken);
            if (response.BodyCase == ServerFrame.BodyOneofCase.Error)
            {
                throw ParleyException.FromError(response.Error);
            }
            return response;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Sends a frame that wants no answer (request id 0), in order with every other frame on this
    /// connection. Throws a connection-lost <see cref="ParleyException"/> when the connection is gone.
    /// </summary>
    public Task PostAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            throw ParleyException.ConnectionLost("Not connected.");
        }
        frame.RequestId = 0;
        return SendAsync(frame, cancellationToken);
    }

    /// <summary>Closes the socket politely (normal closure), waiting briefly for the server's answer.</summary>
    public async Task CloseAsync()
    {
        if (!_closed && _socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _sendLock.WaitAsync(timeout.Token);
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                }
                finally
                {
                    _sendLock.Release();
                }
                await _receiveLoop.WaitAsync(timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // The server did not answer the close in time: drop the socket.
            }
        }
        Abort();
    }

    /// <summary>Drops the connection at once (no close handshake).</summary>
    public void Abort()
    {
        _closed = true;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        await _receiveLoop;
        _socket.Dispose();
        // _sendLock and _stop are left to the GC: a request racing the end of the connection may still
        // touch them, and must fail as "connection lost", not as "disposed".
    }

    private async Task SendAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var size = frame.CalculateSize();
        if (size > WireLimits.MaxFrameBytes)
        {
            throw new ParleyException(ErrorCode.TooLarge, $"Frame of {size} bytes is over the {WireLimits.MaxFrameBytes}-byte limit.");
        }
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            frame.WriteTo(buffer.AsSpan(0, size));
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                await _socket.SendAsync(buffer.AsMemory(0, size), WebSocketMessageType.Binary, true, cancellationToken);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
            {
                throw ParleyException.ConnectionLost("Connection lost while sending: " + e.Message);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[WireLimits.MaxFrameBytes];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        await CloseWithAsync(WebSocketCloseStatus.MessageTooBig, "frame too big");
                        throw new ParleyException(ErrorCode.TooLarge, "The server sent a frame over the size limit.");
                    }
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (result.MessageType != WebSocketMessageType.Binary)
                {
                    await CloseWithAsync(WebSocketCloseStatus.InvalidPayloadData, "text frame");
                    throw new ParleyException(ErrorCode.BadRequest, "The server sent a text frame.");
                }
                ServerFrame frame;
                try
                {
                    frame = ServerFrame.Parser.ParseFrom(buffer, 0, length);
                }
                catch (InvalidProtocolBufferException)
                {
                    await CloseWithAsync(WebSocketCloseStatus.InvalidPayloadData, "unparsable frame");
                    throw new ParleyException(ErrorCode.BadRequest, "The server sent an unparsable frame.");
                }

                if (frame.RequestId != 0)
                {
                    if (_pending.TryRemove(frame.RequestId, out var waiter))
                    {
                        waiter.TrySetResult(frame);
                    }
                    // An answer to nothing we asked (or asked and gave up on): ignore it.
                }
                else if (frame.BodyCase == ServerFrame.BodyOneofCase.Error)
                {
                    LastPushedError = frame.Error;
                }
                else
                {
                    await _onPush(frame);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
        finally
        {
            _closed = true;
            var lost = ParleyException.ConnectionLost(LastPushedError is { } err
                ? $"Connection closed: {err.Code} {err.Message}"
                : "Connection closed.");
            foreach (var (_, waiter) in _pending)
            {
                waiter.TrySetException(lost);
            }
            _socket.Abort();
        }
    }

    private async Task CloseWithAsync(WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await _socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }
}
