using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// A device that speaks the wire protocol directly, without the SDK: for tests that need to do what
/// the SDK never would (send garbage payloads, fetch bundles in bulk, publish another identity).
/// Requests are answered in order; pushes are collected.
/// </summary>
public sealed class RawDevice : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ServerFrame>> _pending = new();
    private Task _receive = Task.CompletedTask;
    private long _nextId;

    private RawDevice(DeviceCredentials credentials) => Credentials = credentials;

    public DeviceCredentials Credentials { get; }

    /// <summary>Pushes received (envelopes, PreKeysLow, ...), in order.</summary>
    public ConcurrentQueue<ServerFrame> Pushes { get; } = new();

    /// <summary>Registers a new account over HTTP and connects its device 1.</summary>
    public static async Task<RawDevice> RegisterAsync(Uri server, string user)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(new Uri(server, RegistrationApi.Accounts), new RegisterRequest(user), Json);
        response.EnsureSuccessStatusCode();
        var creds = (await response.Content.ReadFromJsonAsync<DeviceCredentials>(Json))!;
        return await ConnectAsync(server, creds);
    }

    /// <summary>Links a new device to an account over HTTP (with one of its devices' credentials) and connects it.</summary>
    public static async Task<RawDevice> LinkAsync(Uri server, string user, uint deviceId, string password)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, RegistrationApi.Devices))
        {
            Content = JsonContent.Create(new LinkDeviceRequest("raw"), options: Json),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}.{deviceId}:{password}")));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var creds = (await response.Content.ReadFromJsonAsync<DeviceCredentials>(Json))!;
        return await ConnectAsync(server, creds);
    }

    /// <summary>Connects a device that is already registered (e.g. again, after a server restart).</summary>
    public static async Task<RawDevice> ConnectAsync(Uri server, DeviceCredentials creds)
    {
        var device = new RawDevice(creds);
        var uri = new UriBuilder(new Uri(server, RegistrationApi.WebSocket)) { Scheme = "ws" }.Uri;
        await device._socket.ConnectAsync(uri, Wait.Token());
        device._receive = Task.Run(device.ReceiveLoopAsync);
        var hello = new Hello { User = creds.User, DeviceId = creds.DeviceId, Password = creds.Password, Client = "raw-test" };
        hello.ProtocolVersions.Add(ProtocolVersion.Current);
        var welcome = await device.RequestAsync(new ClientFrame { Hello = hello });
        Assert.Equal(ServerFrame.BodyOneofCase.Welcome, welcome.BodyCase);
        return device;
    }

    /// <summary>Sends a request and returns its answer (a response or an Error frame).</summary>
    public async Task<ServerFrame> RequestAsync(ClientFrame frame)
    {
        frame.RequestId = (ulong)Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[frame.RequestId] = answer;
        await _socket.SendAsync(frame.ToByteArray(), WebSocketMessageType.Binary, true, Wait.Token());
        return await answer.Task.WaitAsync(Wait.Limit);
    }

    /// <summary>
    /// Uploads a complete key set made from <paramref name="identity"/> (one-time keys: a few of each
    /// kind). Device 1 of an account also publishes the account's signed device list naming itself,
    /// with <paramref name="identity"/> as the account key too, so SDK clients will send to it.
    /// </summary>
    public async Task UploadKeysAsync(IdentityKeyPair identity)
    {
        await UploadKeysOnlyAsync(identity);
        if (Credentials.DeviceId == 1)
        {
            await PublishListAsync(identity, 1, (1, identity.IdentityKey));
        }
    }

    /// <summary>Publishes a device list of this device's account signed by <paramref name="accountKey"/>; returns the answer.</summary>
    public async Task<ServerFrame> PublishListAsync(IdentityKeyPair accountKey, ulong version, params (uint Id, IdentityKey Key)[] devices)
    {
        var list = new AccountDeviceList { User = Credentials.User, Version = version, AccountKey = ByteString.CopyFrom(accountKey.IdentityKey.Serialize()) };
        list.Devices.AddRange(devices.Select(d => new ListedDevice { DeviceId = d.Id, IdentityKey = ByteString.CopyFrom(d.Key.Serialize()), AddedAt = 1 }));
        var bytes = list.ToByteString();
        var signed = new SignedDeviceList { List = bytes, Signature = ByteString.CopyFrom(accountKey.CalculateSignature(DeviceListSigning.SignedBytes(bytes))) };
        return await RequestAsync(new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } });
    }

    /// <summary>Uploads a key set without publishing any device list.</summary>
    public async Task UploadKeysOnlyAsync(IdentityKeyPair identity)
    {
        var signed = SignedPreKeyRecord.Generate(1, identity, DateTimeOffset.UtcNow);
        var lastResort = KyberPreKeyRecord.Generate(1, identity, DateTimeOffset.UtcNow);
        var upload = new UploadPreKeys
        {
            IdentityKey = ByteString.CopyFrom(identity.IdentityKey.Serialize()),
            RegistrationId = RegistrationId.Generate(),
            SignedPrekey = new SignedPreKey { Id = 1, PublicKey = ByteString.CopyFrom(signed.KeyPair.PublicKey.Serialize()), Signature = ByteString.CopyFrom(signed.Signature) },
            KyberLastResort = new SignedPreKey { Id = 1, PublicKey = ByteString.CopyFrom(lastResort.KeyPair.PublicKey.Serialize()), Signature = ByteString.CopyFrom(lastResort.Signature) },
        };
        for (uint id = 1; id <= 5; id++)
        {
            upload.OneTimePrekeys.Add(new PreKey { Id = id, PublicKey = ByteString.CopyFrom(PreKeyRecord.Generate(id).KeyPair.PublicKey.Serialize()) });
        }
        var answer = await RequestAsync(new ClientFrame { UploadPrekeys = upload });
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, answer.BodyCase);
    }

    /// <summary>Envelopes pushed so far.</summary>
    public IReadOnlyList<Envelope> Envelopes => [.. Pushes.Where(p => p.BodyCase == ServerFrame.BodyOneofCase.Envelope).Select(p => p.Envelope)];

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                var frame = ServerFrame.Parser.ParseFrom(buffer, 0, count);
                if (frame.RequestId != 0 && _pending.TryRemove(frame.RequestId, out var waiter))
                {
                    waiter.TrySetResult(frame);
                }
                else
                {
                    Pushes.Enqueue(frame);
                }
            }
        }
        catch (WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        await _receive.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
    }
}
