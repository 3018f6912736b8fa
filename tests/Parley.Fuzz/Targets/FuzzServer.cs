using System.Net.Http.Json;
using System.Net.WebSockets;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Configuration;

namespace Parley.Fuzz.Targets;

/// <summary>
/// A real Parley server in this process, on a loopback port with SQLite in a temporary folder,
/// with the per-client rate limits lifted (a fuzzer is one very busy client; the limits have
/// their own tests) and its Error log captured.
/// </summary>
public sealed class FuzzServer : IAsyncDisposable
{
    /// <summary>The admin token the invite endpoint is started with.</summary>
    public const string AdminToken = "fuzz-admin-token";

    private readonly string _dataDir;

    private FuzzServer(RunningServer server, string dataDir, LogCapture log)
    {
        Server = server;
        _dataDir = dataDir;
        Log = log;
    }

    public RunningServer Server { get; }

    public LogCapture Log { get; }

    public T Get<T>() where T : notnull => Server.App.Services.GetRequiredService<T>();

    /// <summary>Starts a server that registers accounts under <paramref name="policy"/>; <paramref name="configure"/> changes further settings.</summary>
    public static async Task<FuzzServer> StartAsync(RegistrationPolicy policy = RegistrationPolicy.Open, Action<ParleyOptions>? configure = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-fuzz-").FullName;
        var log = new LogCapture();
        var server = await ParleyServer.StartAsync(dataDir, options =>
        {
            options.AdminToken = AdminToken;
            options.Registration.Policy = policy;
            options.Limits.FramesPerSecond = 1_000_000;
            options.Limits.FrameBurst = 1_000_000;
            options.Limits.RegistrationsPerMinutePerAddress = 100_000_000;
            options.Limits.BundleFetchesPerMinute = 100_000_000;
            configure?.Invoke(options);
        }, services: s =>
        {
            // Only the capture: a console line per refused Hello would cost more than the input.
            s.RemoveAll<ILoggerProvider>();
            s.AddSingleton<ILoggerProvider>(log);
        });
        return new FuzzServer(server, dataDir, log);
    }

    /// <summary>Registers <paramref name="user"/> over HTTP and returns its device credentials.</summary>
    public async Task<DeviceCredentials> RegisterAsync(string user)
    {
        using var http = new HttpClient { BaseAddress = Server.BaseUri };
        var response = await http.PostAsJsonAsync(RegistrationApi.Accounts, new RegisterRequest(user), ParleyJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeviceCredentials>(ParleyJson.Options))!;
    }

    /// <summary>Throws when the server logged an error since <paramref name="seen"/> entries.</summary>
    public void ThrowOnNewErrors(ref int seen)
    {
        int now = Log.Count;
        if (now > seen)
        {
            var errors = Log.Since(seen);
            seen = now;
            throw new PropertyViolationException("the server logged an error: " + errors[0]);
        }
    }

    /// <summary>
    /// Two fresh users register over HTTP, connect over real WebSockets, and one sends the other a
    /// message, which arrives: the server is up and serves good clients after whatever came before.
    /// </summary>
    public async Task CheckStillServingAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var sender = await RegisterAsync("after" + suffix);
        var receiver = await RegisterAsync("other" + suffix);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var a = await ConnectAsync(sender, timeout.Token);
        using var b = await ConnectAsync(receiver, timeout.Token);
        var send = new SendMessage { MessageId = ByteString.CopyFrom(MessageId.New()), Recipient = receiver.User, SentAt = 1 };
        send.Payloads.Add(new DevicePayload { User = receiver.User, DeviceId = receiver.DeviceId, Payload = ByteString.CopyFromUtf8("still here") });
        await SendAsync(a, new ClientFrame { RequestId = 7, Send = send }, timeout.Token);
        await ReceiveAsync(a, f => f.BodyCase == ServerFrame.BodyOneofCase.SendResult && f.RequestId == 7, timeout.Token);
        var envelope = await ReceiveAsync(b, f => f.BodyCase == ServerFrame.BodyOneofCase.Envelope, timeout.Token);
        if (envelope.Envelope.Payload.ToStringUtf8() != "still here")
        {
            throw new PropertyViolationException("the good client's message arrived changed");
        }
    }

    private async Task<ClientWebSocket> ConnectAsync(DeviceCredentials c, CancellationToken token)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(Server.WebSocketUri, token);
        var hello = new Hello { User = c.User, DeviceId = c.DeviceId, Password = c.Password, Client = "fuzz-check" };
        hello.ProtocolVersions.Add(ProtocolVersion.Current);
        await SendAsync(socket, new ClientFrame { RequestId = 1, Hello = hello }, token);
        await ReceiveAsync(socket, f => f.BodyCase == ServerFrame.BodyOneofCase.Welcome, token);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, ClientFrame frame, CancellationToken token) =>
        socket.SendAsync(frame.ToByteArray(), WebSocketMessageType.Binary, true, token);

    private static async Task<ServerFrame> ReceiveAsync(ClientWebSocket socket, Func<ServerFrame, bool> match, CancellationToken token)
    {
        var buffer = new byte[WireLimits.MaxFrameBytes];
        while (true)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new PropertyViolationException($"the server closed a good client's connection: {socket.CloseStatus} {socket.CloseStatusDescription}");
                }
                length += result.Count;
            }
            while (!result.EndOfMessage);
            var frame = ServerFrame.Parser.ParseFrom(buffer, 0, length);
            if (match(frame))
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
