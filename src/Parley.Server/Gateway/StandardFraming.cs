using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Gateway;

/// <summary>
/// <see cref="PipeWebSocket"/>'s framing done by System.Net.WebSockets instead
/// (<c>WebSocket.CreateFromStream</c> over the same connection pipes), for the comparison in
/// docs/performance.md (<c>Parley:StandardWebSockets=true</c>). Frames written in one pass are
/// sent at the next flush, one <c>SendAsync</c> (and so one stream write and flush) each, which is
/// what that API allows; pings are answered by the library.
/// </summary>
internal sealed class StandardFraming(IDuplexPipe transport, int maxMessageBytes)
{
    private readonly WebSocket _socket = WebSocket.CreateFromStream(new DuplexPipeStream(transport),
        new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    private readonly List<(byte[] Buffer, int Length)> _unsent = [];
    private (WebSocketCloseStatus Status, string Reason)? _close;
    private byte[] _message = new byte[4096];

    public long UnflushedBytes => _unsent.Sum(u => (long)u.Length);

    public async ValueTask<InboundFrame> ReadAsync(CancellationToken token)
    {
        int length = 0;
        try
        {
            while (true)
            {
                if (length == _message.Length)
                {
                    Array.Resize(ref _message, _message.Length * 2);
                }
                var result = await _socket.ReceiveAsync(_message.AsMemory(length), token);
                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        return new InboundFrame(InboundKind.Close, CloseStatus: _socket.CloseStatus);
                    case WebSocketMessageType.Text:
                        return new InboundFrame(InboundKind.Violation, CloseStatus: CloseCodes.UnsupportedData, Reason: "frames are binary protobuf");
                }
                length += result.Count;
                if (length > maxMessageBytes)
                {
                    return new InboundFrame(InboundKind.Violation, CloseStatus: CloseCodes.TooBig,
                        Reason: $"frames are at most {maxMessageBytes} bytes", Code: ErrorCode.TooLarge);
                }
                if (result.EndOfMessage)
                {
                    return new InboundFrame(InboundKind.Message, _message.AsMemory(0, length));
                }
            }
        }
        catch (WebSocketException e) when (e.WebSocketErrorCode is WebSocketError.Faulted or WebSocketError.HeaderError or WebSocketError.InvalidMessageType)
        {
            return new InboundFrame(InboundKind.Violation, CloseStatus: WebSocketCloseStatus.ProtocolError, Reason: "framing error");
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            return new InboundFrame(InboundKind.Gone);
        }
    }

    public void Write(IMessage message, IFrameObserver? observer)
    {
        int size = message.CalculateSize();
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        message.WriteTo(buffer.AsSpan(0, size));
        observer?.OnFrame(inbound: false, buffer.AsSpan(0, size));
        _unsent.Add((buffer, size));
    }

    public void Write(ReadOnlySpan<byte> encoded, IFrameObserver? observer)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(encoded.Length, 1));
        encoded.CopyTo(buffer);
        observer?.OnFrame(inbound: false, encoded);
        _unsent.Add((buffer, encoded.Length));
    }

    public void WriteClose(WebSocketCloseStatus status, string reason) => _close = (status, reason.Length > 60 ? reason[..60] : reason);

    public async ValueTask<FlushResult> FlushAsync(CancellationToken token)
    {
        try
        {
            foreach (var (buffer, length) in _unsent)
            {
                await _socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, token);
            }
            if (_close is { } close)
            {
                _close = null;
                await _socket.CloseOutputAsync(close.Status, close.Reason, token);
            }
            return new FlushResult(isCanceled: false, isCompleted: false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
        finally
        {
            foreach (var (buffer, _) in _unsent)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            _unsent.Clear();
        }
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>The connection's two pipes as one Stream, as WebSocket.CreateFromStream wants.</summary>
    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
        private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override void Flush() => _output.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
