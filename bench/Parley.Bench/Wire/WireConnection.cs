using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Bench.Wire;

/// <summary>
/// One client WebSocket on /v1/ws, opened over a raw socket (optionally bound to a loopback source
/// address, to get past the ephemeral-port limit of one address) with our own HTTP/1.1 upgrade.
/// Sends are serialized into pooled buffers; receives reuse one buffer per connection.
/// </summary>
internal sealed class WireConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly WebSocket _webSocket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _receiveBuffer;
    private long _nextRequestId;

    private WireConnection(Socket socket, WebSocket webSocket, int receiveBufferBytes)
    {
        _socket = socket;
        _webSocket = webSocket;
        _receiveBuffer = new byte[receiveBufferBytes];
    }

    /// <summary>Why the server closed the socket, once <see cref="ReceiveAsync"/> has returned null.</summary>
    public WebSocketCloseStatus? CloseStatus => _webSocket.CloseStatus;

    /// <summary>The close reason text the server gave, if any.</summary>
    public string? CloseDescription => _webSocket.CloseStatusDescription;

    /// <summary>True while the socket can still send and receive.</summary>
    public bool IsOpen => _webSocket.State == WebSocketState.Open;

    /// <summary>A fresh non-zero request id, unique on this connection.</summary>
    public ulong NextRequestId() => (ulong)Interlocked.Increment(ref _nextRequestId);

    /// <summary>
    /// Connects and upgrades. Throws <see cref="ServerFullException"/> when the server answers 503,
    /// and <see cref="IOException"/>/<see cref="SocketException"/> for other failures.
    /// </summary>
    public static async Task<WireConnection> ConnectAsync(Uri server, IPAddress? source, int receiveBufferBytes, CancellationToken ct)
    {
        var host = server.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(server.Host);
        var socket = new Socket(host.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(new IPEndPoint(host, server.Port), ct);
            var network = new NetworkStream(socket, ownsSocket: true);
            var early = await UpgradeAsync(network, server, ct);
            Stream stream = early.Length == 0 ? network : new PrefixedStream(network, early);
            var webSocket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = false,
                KeepAliveInterval = TimeSpan.Zero, // the protocol's own Ping is the heartbeat
            });
            return new WireConnection(socket, webSocket, receiveBufferBytes);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Upgrades; returns the bytes that came after the response headers (WebSocket frames).</summary>
    private static async Task<byte[]> UpgradeAsync(NetworkStream stream, Uri server, CancellationToken ct)
    {
        var (key, request) = UpgradeHandshake.NewRequest(server);
        await stream.WriteAsync(request, ct);

        var buffer = new byte[4096];
        int filled = 0;
        int end;
        while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                throw new IOException("upgrade response headers too long");
            }
            int n = await stream.ReadAsync(buffer.AsMemory(filled), ct);
            if (n == 0)
            {
                throw new IOException("connection closed during the upgrade");
            }
            filled += n;
        }
        var head = Encoding.ASCII.GetString(buffer, 0, end);
        UpgradeHandshake.CheckResponse(head, key);
        return buffer.AsSpan(end + 4, filled - end - 4).ToArray();
    }

    /// <summary>Sends Hello and waits for Welcome. Throws <see cref="ServerFullException"/> on UNAVAILABLE or close 1013.</summary>
    public async Task<Welcome> HelloAsync(DeviceCredentials device, CancellationToken ct)
    {
        var hello = new ClientFrame
        {
            RequestId = NextRequestId(),
            Hello = new Hello { User = device.User, DeviceId = device.DeviceId, Password = device.Password, Client = "parley-bench" },
        };
        hello.Hello.ProtocolVersions.Add(ProtocolVersion.Current);
        await SendAsync(hello, ct);
        var reply = await ReceiveAsync(ct);
        return reply switch
        {
            { BodyCase: ServerFrame.BodyOneofCase.Welcome } => reply.Welcome,
            { BodyCase: ServerFrame.BodyOneofCase.Error, Error.Code: ErrorCode.Unavailable } => throw new ServerFullException("Error UNAVAILABLE at Hello"),
            { BodyCase: ServerFrame.BodyOneofCase.Error } => throw new IOException($"Hello refused: {reply.Error.Code} {reply.Error.Message}"),
            null when (int?)CloseStatus == 1013 => throw new ServerFullException("close 1013 at Hello"),
            null => throw new IOException($"closed at Hello: {(int?)CloseStatus} {CloseDescription}"),
            _ => throw new IOException($"unexpected {reply.BodyCase} before Welcome"),
        };
    }

    /// <summary>
    /// Serializes <paramref name="frame"/> at once (the caller may reuse it as soon as this returns
    /// its task) and sends it as one binary message; sends are serialized per connection.
    /// </summary>
    public async ValueTask SendAsync(ClientFrame frame, CancellationToken ct)
    {
        int size = frame.CalculateSize();
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            frame.WriteTo(buffer.AsSpan(0, size));
            await _sendLock.WaitAsync(ct);
            try
            {
                await _webSocket.SendAsync(buffer.AsMemory(0, size), WebSocketMessageType.Binary, endOfMessage: true, ct);
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

    /// <summary>Reads the next whole ServerFrame; null when the server closed (see <see cref="CloseStatus"/>).</summary>
    public async ValueTask<ServerFrame?> ReceiveAsync(CancellationToken ct)
    {
        int length = await ReceiveRawAsync(ct);
        return length < 0 ? null : ServerFrame.Parser.ParseFrom(_receiveBuffer.AsSpan(0, length));
    }

    /// <summary>The bytes of the frame the last <see cref="ReceiveRawAsync"/> read; valid until the next receive.</summary>
    public ReadOnlySpan<byte> Received(int length) => _receiveBuffer.AsSpan(0, length);

    /// <summary>Reads the next whole frame into this connection's buffer; its length, or -1 when the server closed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // one per frame: no box per await
    public async ValueTask<int> ReceiveRawAsync(CancellationToken ct)
    {
        int filled = 0;
        while (true)
        {
            if (filled == _receiveBuffer.Length)
            {
                Array.Resize(ref _receiveBuffer, Math.Min(_receiveBuffer.Length * 2, WireLimits.MaxFrameBytes + 1024));
            }
            ValueWebSocketReceiveResult result;
            try
            {
                result = await _webSocket.ReceiveAsync(_receiveBuffer.AsMemory(filled), ct);
            }
            catch (WebSocketException) when (!ct.IsCancellationRequested)
            {
                return -1;
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return -1;
            }
            filled += result.Count;
            if (result.EndOfMessage)
            {
                return filled;
            }
        }
    }

    /// <summary>Closes politely (best effort, bounded in time) and releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing is best effort: the server may have gone already.
        }
        _webSocket.Dispose();
        _socket.Dispose();
        _sendLock.Dispose();
    }
}
