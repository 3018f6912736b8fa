using System.Net.Http.Json;
using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Protocol;
using Parley.Server;

namespace Parley.Server.Tests;

/// <summary>
/// A bare protocol client for server tests: it sends exactly the frames a test says (good or
/// bad) and hands back every frame the server sends, so tests see the wire, not an SDK's view.
/// </summary>
public sealed class RawClient : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket = new();
    private readonly List<ServerFrame> _held = [];
    private ulong _nextId;

    public DeviceCredentials Credentials { get; private set; } = null!;

    public ClientWebSocket Socket => _socket;

    public static async Task<DeviceCredentials> RegisterAsync(RunningServer server, string user)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var response = await http.PostAsJsonAsync(RegistrationApi.Accounts, new RegisterRequest(user), ParleyJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeviceCredentials>(ParleyJson.Options))!;
    }

    /// <summary>The HTTP Basic header the API takes for a device: <c>user.device:password</c>.</summary>
    public static System.Net.Http.Headers.AuthenticationHeaderValue Basic(DeviceCredentials device) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{device.User}.{device.DeviceId}:{device.Password}")));

    public static async Task<DeviceCredentials> LinkAsync(RunningServer server, DeviceCredentials existing)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.Authorization = Basic(existing);
        var response = await http.PostAsJsonAsync(RegistrationApi.Devices, new LinkDeviceRequest("second"), ParleyJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeviceCredentials>(ParleyJson.Options))!;
    }

    /// <summary>Opens the socket without saying anything.</summary>
    public static async Task<RawClient> OpenAsync(RunningServer server)
    {
        var client = new RawClient();
        await client._socket.ConnectAsync(server.WebSocketUri, CancellationToken.None);
        return client;
    }

    /// <summary>Opens, sends Hello and waits for Welcome.</summary>
    public static async Task<RawClient> ConnectAsync(RunningServer server, DeviceCredentials credentials)
    {
        var client = await OpenAsync(server);
        client.Credentials = credentials;
        var welcome = await client.RequestAsync(new ClientFrame { Hello = Hello(credentials) });
        Assert.Equal(ServerFrame.BodyOneofCase.Welcome, welcome.BodyCase);
        return client;
    }

    public static Hello Hello(DeviceCredentials c, string? password = null)
    {
        var hello = new Hello { User = c.User, DeviceId = c.DeviceId, Password = password ?? c.Password, Client = "tests" };
        hello.ProtocolVersions.Add(ProtocolVersion.Current);
        return hello;
    }

    public ulong NextId() => ++_nextId;

    public Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary) =>
        _socket.SendAsync(bytes, type, true, CancellationToken.None);

    /// <summary>Sends one fragment of a binary message; the message ends with the fragment that has <paramref name="endOfMessage"/>.</summary>
    public Task SendFragmentAsync(byte[] bytes, bool endOfMessage) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage, CancellationToken.None);

    /// <summary>Sends a frame; gives it a request id unless it has one or is an ack meant to be fire-and-forget.</summary>
    public async Task<ulong> SendAsync(ClientFrame frame, bool request = true)
    {
        if (request && frame.RequestId == 0)
        {
            frame.RequestId = NextId();
        }
        await SendRawAsync(frame.ToByteArray());
        return frame.RequestId;
    }

    /// <summary>Sends a request and returns its response, keeping any pushes that came first for later.</summary>
    public async Task<ServerFrame> RequestAsync(ClientFrame frame)
    {
        var id = await SendAsync(frame);
        return await ReceiveAsync(f => f.RequestId == id);
    }

    /// <summary>
    /// The next frame matching <paramref name="match"/>; frames that do not match are held for
    /// later calls. Without a match: the next frame other than a PreKeysLow nudge (devices in these
    /// tests mostly never upload keys).
    /// </summary>
    public async Task<ServerFrame> ReceiveAsync(Func<ServerFrame, bool>? match = null, TimeSpan? timeout = null)
    {
        match ??= f => f.BodyCase != ServerFrame.BodyOneofCase.PrekeysLow;
        var held = _held.FindIndex(f => match(f));
        if (held >= 0)
        {
            var frame = _held[held];
            _held.RemoveAt(held);
            return frame;
        }
        using var cts = new CancellationTokenSource(timeout ?? Patience);
        while (true)
        {
            var frame = await ReadFrameAsync(cts.Token) ?? throw new WebSocketException($"closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            if (match(frame))
            {
                return frame;
            }
            _held.Add(frame);
        }
    }

    /// <summary>The next envelope push (held frames first).</summary>
    public Task<ServerFrame> ReceiveEnvelopeAsync(TimeSpan? timeout = null) =>
        ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.Envelope, timeout);

    /// <summary>Reads until the server closes; returns the close status and every frame seen before it.</summary>
    public async Task<(WebSocketCloseStatus? Status, List<ServerFrame> Frames)> ReadUntilClosedAsync()
    {
        var frames = new List<ServerFrame>(_held);
        _held.Clear();
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            while (await ReadFrameAsync(cts.Token) is { } frame)
            {
                frames.Add(frame);
            }
        }
        catch (WebSocketException)
        {
        }
        return (_socket.CloseStatus, frames);
    }

    private async Task<ServerFrame?> ReadFrameAsync(CancellationToken token)
    {
        var buffer = new byte[WireLimits.MaxFrameBytes];
        int length = 0;
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.AsMemory(length), token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            length += result.Count;
            if (result.EndOfMessage)
            {
                return ServerFrame.Parser.ParseFrom(buffer, 0, length);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
    }
}
