using System.Buffers.Binary;
using Google.Protobuf;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Fuzz.Targets;

/// <summary>
/// ClientFrame parsing and dispatch in the real gateway of a real server (SQLite, router, prekeys,
/// presence), fed over in-memory pipes. Each input is one WebSocket message on an authenticated
/// connection, followed by a Ping the gateway must answer; one input in sixteen is instead the
/// first frame of a fresh connection (before Hello). Property: every answer is a ServerFrame
/// with a documented error code, never INTERNAL; the server logs no error; the connection either
/// answers the Ping or is closed with a close code, within 10 s; and afterwards good clients are served.
/// </summary>
public sealed class ClientFrameTarget : IFuzzTarget
{
    private const int WorkerCount = 4;
    private const ulong MarkerBase = 0xF00D_0000_0000_0000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FuzzServer _server;
    private readonly WebSocketGateway _gateway;
    private readonly DeviceCredentials[] _devices;
    private readonly GatewayConnection?[] _live = new GatewayConnection?[WorkerCount];
    private readonly Lock _errorsLock = new();
    private long _nextMarker;
    private int _errorsSeen;

    private ClientFrameTarget(FuzzServer server, DeviceCredentials[] devices, List<byte[]> seeds)
    {
        _server = server;
        _gateway = server.Get<WebSocketGateway>();
        _devices = devices;
        Seeds = seeds;
    }

    public string Name => "client-frame";

    public int Workers => WorkerCount;

    public IReadOnlyList<byte[]> Seeds { get; }

    public static async Task<ClientFrameTarget> StartAsync()
    {
        var server = await FuzzServer.StartAsync();
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            await server.RegisterAsync(user);
        }
        var devices = new DeviceCredentials[WorkerCount];
        for (int w = 0; w < WorkerCount; w++)
        {
            devices[w] = await server.RegisterAsync($"worker{w}");
        }
        // The seeds' good Hello is of a device no worker uses: a fuzzed copy of it never replaces a worker's connection.
        return new ClientFrameTarget(server, devices, MakeSeeds(await server.RegisterAsync("dave")));
    }

    private static List<byte[]> MakeSeeds(DeviceCredentials worker)
    {
        var id = ByteString.CopyFrom(MessageId.New());
        var key = ByteString.CopyFrom([0x05, .. new byte[32]]);
        var hello = new Hello { User = worker.User, DeviceId = worker.DeviceId, Password = worker.Password, Client = "fuzz" };
        hello.ProtocolVersions.Add(ProtocolVersion.Current);
        var upload = new UploadPreKeys
        {
            IdentityKey = key,
            RegistrationId = 42,
            SignedPrekey = new SignedPreKey { Id = 1, PublicKey = key, Signature = ByteString.CopyFrom(new byte[64]) },
            KyberLastResort = new SignedPreKey { Id = 2, PublicKey = ByteString.CopyFrom(new byte[1569]), Signature = ByteString.CopyFrom(new byte[64]) },
        };
        upload.OneTimePrekeys.Add(new PreKey { Id = 3, PublicKey = key });
        upload.KyberPrekeys.Add(new SignedPreKey { Id = 4, PublicKey = ByteString.CopyFrom(new byte[100]), Signature = ByteString.CopyFrom(new byte[64]) });
        var frames = new List<ClientFrame>
        {
            new() { RequestId = 1, Send = new SendMessage
            {
                MessageId = id, Recipient = "bob", SentAt = 1,
                Payloads =
                {
                    new DevicePayload { User = "bob", DeviceId = 1, Payload = ByteString.CopyFromUtf8("ciphertext") },
                    new DevicePayload { User = worker.User, DeviceId = 2, Payload = ByteString.CopyFromUtf8("sync") },
                },
            } },
            new() { RequestId = 2, Send = new SendMessage { MessageId = id, Recipient = "alice", Kind = EnvelopeKind.RetryRequest,
                Payloads = { new DevicePayload { User = "alice", DeviceId = 1 } } } },
            new() { Ack = new Ack { Seqs = { 1, 2, 3 } } },
            new() { RequestId = 3, Ack = new Ack { Seqs = { 1, ulong.MaxValue } } },
            new() { RequestId = 4, Read = new ReadReceipt { Peer = "bob", MessageIds = { id } } },
            new() { RequestId = 5, Typing = new Typing { Peer = "bob", Typing_ = true } },
            new() { RequestId = 6, Presence = new SubscribePresence { Users = { "alice", "bob" } } },
            new() { RequestId = 7, GetDevices = new GetDevices { User = "bob" } },
            new() { RequestId = 8, Ping = new Ping { ClientTime = 9 } },
            new() { RequestId = 9, UploadPrekeys = upload },
            new() { RequestId = 10, GetBundles = new GetPreKeyBundles { User = "bob" } },
            new() { RequestId = 11, Hello = hello },
        };
        return [.. frames.Select(f => f.ToByteArray())];
    }

    /// <summary>
    /// Protobuf-aware mutations; most results are made to parse as a ClientFrame (up to three
    /// tries), because the gateway refuses the rest at the first step and dispatch is where the depth is.
    /// </summary>
    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        var mutated = ProtoMutator.Mutate(input, mutator, other);
        for (int tries = mutator.Random.Next(4) == 0 ? 3 : 0; tries < 3 && Body(mutated) == "unparsed"; tries++)
        {
            mutated = ProtoMutator.Mutate(input, mutator, other);
        }
        return mutated;
    }

    public async ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        string outcome = Fnv(input) % 16 == 0 ? await FirstFrameAsync(input) : await OnAuthenticatedAsync(input, worker);
        lock (_errorsLock)
        {
            _server.ThrowOnNewErrors(ref _errorsSeen);
        }
        return outcome;
    }

    /// <summary>The input as the first frame of a connection: it must be refused with a close (or, as a good Hello, welcomed).</summary>
    private async Task<string> FirstFrameAsync(byte[] input)
    {
        var connection = GatewayConnection.Open(_gateway);
        await connection.WriteMessageAsync(input);
        ulong marker = NextMarker();
        await connection.WriteAsync(new ClientFrame { RequestId = marker, Ping = new Ping() });
        var labels = new SortedSet<string>();
        bool open = await ReadRoundAsync(connection, marker, labels);
        await CloseAsync(connection);
        return "first " + Body(input) + (open ? " open " : " ") + string.Join(",", labels);
    }

    private async Task<string> OnAuthenticatedAsync(byte[] input, int worker)
    {
        var connection = _live[worker] ??= await ConnectAsync(worker);
        await connection.WriteMessageAsync(input);
        ulong marker = NextMarker();
        await connection.WriteAsync(new ClientFrame { RequestId = marker, Ping = new Ping() });
        var labels = new SortedSet<string>();
        if (!await ReadRoundAsync(connection, marker, labels))
        {
            _live[worker] = null;
            await CloseAsync(connection);
        }
        return Body(input) + " " + string.Join(",", labels);
    }

    /// <summary>Reads the server's frames up to the Pong for <paramref name="marker"/> (true) or the end of the connection (false).</summary>
    private static async Task<bool> ReadRoundAsync(GatewayConnection connection, ulong marker, SortedSet<string> labels)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            (int Opcode, byte[] Payload)? read;
            try
            {
                read = await connection.ReadFrameAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new PropertyViolationException($"neither an answer to a ping nor a close within {Patience.TotalSeconds} s");
            }
            if (read is not { } frame)
            {
                labels.Add("gone");
                return false;
            }
            switch (frame.Opcode)
            {
                case 0x8:
                    labels.Add("close " + (frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : 0));
                    return false;
                case 0x2:
                    ServerFrame answer;
                    try
                    {
                        answer = ServerFrame.Parser.ParseFrom(frame.Payload);
                    }
                    catch (InvalidProtocolBufferException e)
                    {
                        throw new PropertyViolationException("the server sent a frame that is not a ServerFrame", e);
                    }
                    if (answer.BodyCase == ServerFrame.BodyOneofCase.Pong && answer.RequestId == marker)
                    {
                        return true;
                    }
                    if (answer.BodyCase == ServerFrame.BodyOneofCase.Error)
                    {
                        if (answer.Error.Code is ErrorCode.Internal || !Enum.IsDefined(answer.Error.Code))
                        {
                            throw new PropertyViolationException($"the server answered {answer.Error.Code}: {answer.Error.Message}");
                        }
                        labels.Add("error " + answer.Error.Code);
                    }
                    else
                    {
                        labels.Add(answer.BodyCase.ToString());
                    }
                    break;
                default:
                    throw new PropertyViolationException($"the server sent opcode {frame.Opcode}");
            }
        }
    }

    private async Task<GatewayConnection> ConnectAsync(int worker)
    {
        var c = _devices[worker];
        var connection = GatewayConnection.Open(_gateway);
        var hello = new Hello { User = c.User, DeviceId = c.DeviceId, Password = c.Password, Client = "fuzz" };
        hello.ProtocolVersions.Add(ProtocolVersion.Current);
        ulong marker = NextMarker();
        await connection.WriteAsync(new ClientFrame { RequestId = 1, Hello = hello });
        await connection.WriteAsync(new ClientFrame { RequestId = marker, Ping = new Ping() });
        var labels = new SortedSet<string>();
        if (!await ReadRoundAsync(connection, marker, labels) || !labels.Contains(nameof(ServerFrame.BodyOneofCase.Welcome)))
        {
            throw new PropertyViolationException("a good Hello was not welcomed: " + string.Join(",", labels));
        }
        return connection;
    }

    /// <summary>Ends the client side, reads whatever is left, and waits for the gateway to let the connection go.</summary>
    private static async Task CloseAsync(GatewayConnection connection)
    {
        await connection.EndAsync();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (await connection.ReadFrameAsync(timeout.Token) is not null)
            {
            }
            await connection.Serving.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new PropertyViolationException($"the gateway still held a closed connection after {Patience.TotalSeconds} s");
        }
    }

    private ulong NextMarker() => MarkerBase + (ulong)Interlocked.Increment(ref _nextMarker);

    private static string Body(byte[] input)
    {
        try
        {
            return ClientFrame.Parser.ParseFrom(input).BodyCase.ToString();
        }
        catch (InvalidProtocolBufferException)
        {
            return "unparsed";
        }
    }

    private static uint Fnv(byte[] input)
    {
        uint hash = 2166136261;
        foreach (byte b in input)
        {
            hash = (hash ^ b) * 16777619;
        }
        return hash;
    }

    public async Task CheckStillServingAsync()
    {
        for (int w = 0; w < WorkerCount; w++)
        {
            if (_live[w] is { } connection)
            {
                _live[w] = null;
                await CloseAsync(connection);
            }
        }
        await _server.CheckStillServingAsync();
        lock (_errorsLock)
        {
            _server.ThrowOnNewErrors(ref _errorsSeen);
        }
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
