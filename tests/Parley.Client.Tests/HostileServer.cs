using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>
/// A scripted WebSocket server on a loopback port that answers Hello with Welcome and then does
/// whatever the test says, including things a real server never would (text frames, oversized or
/// unparsable frames, malformed envelopes). Counts the connections it accepted.
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<WebSocket, int, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    /// <param name="script">Runs after the Welcome, with the socket and the 1-based connection number.</param>
    public HostileServer(Func<WebSocket, int, Task> script)
    {
        _script = script;
        var port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUri.ToString());
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public Uri BaseUri { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Answers the plain HTTP requests (the SDK's account and link calls); without it they get 404.</summary>
    public Func<HttpListenerContext, Task>? Http { get; init; }

    /// <summary>
    /// Opens a client whose profile points at this server. The scripted server speaks plaintext
    /// payloads and serves no prekeys, so these clients use the pass-through cipher: the tests are of
    /// the transport's defences (encryption has its own tests).
    /// </summary>
    public ParleyClient NewClient(string profileDir)
    {
        using (var store = Storage.ClientStore.Open(profileDir))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(BaseUri, "bob", 1, "secret"));
        }
        return ParleyClient.Open(profileDir, new ParleyClientOptions
        {
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(100),
            Cipher = Encryption.PlaintextPayloadCipher.Instance,
        });
    }

    public static async Task SendAsync(WebSocket socket, ServerFrame frame) =>
        await socket.SendAsync(frame.ToByteArray(), WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Reads the next client frame; null when the client closed.</summary>
    public static async Task<ClientFrame?> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[WireLimits.MaxFrameBytes];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            length += result.Count;
            if (result.EndOfMessage)
            {
                return ClientFrame.Parser.ParseFrom(buffer, 0, length);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            if (!context.Request.IsWebSocketRequest)
            {
                await (Http ?? NotFoundAsync)(context);
                context.Response.Close();
                return;
            }
            var ws = (await context.AcceptWebSocketAsync(subProtocol: null)).WebSocket;
            var number = Interlocked.Increment(ref _connections);
            var hello = await ReceiveAsync(ws);
            if (hello?.Hello is null)
            {
                return;
            }
            await SendAsync(ws, new ServerFrame
            {
                RequestId = hello.RequestId,
                Welcome = new Welcome { ProtocolVersion = ProtocolVersion.Current, User = hello.Hello.User, DeviceId = hello.Hello.DeviceId, MaxFrameBytes = WireLimits.MaxFrameBytes },
            });
            await _script(ws, number);
        }
        catch (Exception e) when (e is WebSocketException or HttpListenerException or ObjectDisposedException or InvalidProtocolBufferException or OperationCanceledException)
        {
        }
    }

    private static Task NotFoundAsync(HttpListenerContext context)
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
