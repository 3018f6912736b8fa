using System.Collections.Concurrent;
using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Client.Events;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>The SDK treats everything from the network as hostile: bad frames end the connection, bad envelopes are dropped.</summary>
public sealed class HostileServerTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly TempProfile _profile = new();

    public void Dispose() => _profile.Dispose();

    private static async Task<Exception> FirstDropAsync(Func<WebSocket, Task> misbehave)
    {
        await using var server = new HostileServer(async (ws, n) =>
        {
            if (n == 1)
            {
                await misbehave(ws);
            }
            // Later connections behave: stay open until the client leaves.
            while (await HostileServer.ReceiveAsync(ws) is not null)
            {
            }
        });
        using var profile = new TempProfile();
        await using var client = server.NewClient(profile.Path);
        var dropped = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e is { State: ConnectionState.Disconnected, Error: { } error })
            {
                dropped.TrySetResult(error);
            }
            if (e.State == ConnectionState.Connected && dropped.Task.IsCompleted)
            {
                reconnected.TrySetResult();
            }
        };
        await client.ConnectAsync();
        var why = await dropped.Task.WaitAsync(Limit);
        await reconnected.Task.WaitAsync(Limit); // and it comes back on its own
        Assert.True(server.Connections >= 2);
        return why;
    }

    [Fact]
    public async Task A_text_frame_ends_the_connection_and_the_client_reconnects()
    {
        var why = await FirstDropAsync(ws => ws.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None));
        Assert.Equal(ErrorCode.BadRequest, Assert.IsType<ParleyException>(why).Code);
    }

    [Fact]
    public async Task An_oversized_frame_ends_the_connection()
    {
        var why = await FirstDropAsync(ws => ws.SendAsync(new byte[WireLimits.MaxFrameBytes + 1], WebSocketMessageType.Binary, true, CancellationToken.None));
        Assert.Equal(ErrorCode.TooLarge, Assert.IsType<ParleyException>(why).Code);
    }

    [Fact]
    public async Task An_unparsable_frame_ends_the_connection()
    {
        var why = await FirstDropAsync(ws => ws.SendAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, WebSocketMessageType.Binary, true, CancellationToken.None));
        Assert.Equal(ErrorCode.BadRequest, Assert.IsType<ParleyException>(why).Code);
    }

    [Fact]
    public async Task Malformed_and_repeated_envelopes_are_acked_but_only_one_good_message_is_raised()
    {
        var acked = new ConcurrentBag<ulong>();
        var good = MessageId.New();
        var text = new Content { Text = new TextMessage { Text = "the good one" } }.ToByteString();
        await using var server = new HostileServer(async (ws, _) =>
        {
            Envelope Env(ulong seq, byte[] id, string sender, ByteString payload) => new()
            {
                Seq = seq, Kind = EnvelopeKind.Message, MessageId = ByteString.CopyFrom(id), Sender = sender, SenderDevice = 1, Conversation = "bob", Payload = payload,
            };
            var envelopes = new[]
            {
                Env(1, [1, 2, 3], "alice", text),                          // id is not 16 bytes
                Env(2, MessageId.New(), "Not A User!", text),               // sender is not a user name
                Env(3, MessageId.New(), "alice", ByteString.CopyFrom(0xFF, 0xFF)), // payload is not Content
                Env(4, good, "alice", text),
                Env(5, good, "alice", text),                                // redelivered duplicate
                Env(6, MessageId.New(), "bob", text),                        // claims to be our own device
            };
            foreach (var envelope in envelopes)
            {
                await HostileServer.SendAsync(ws, new ServerFrame { Envelope = envelope });
            }
            await HostileServer.SendAsync(ws, new ServerFrame { QueueEmpty = new QueueEmpty() });
            while (await HostileServer.ReceiveAsync(ws) is { } frame)
            {
                if (frame.Ack is { } ack)
                {
                    foreach (var seq in ack.Seqs)
                    {
                        acked.Add(seq);
                    }
                    await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, AckResult = new AckResult { Acked = (uint)ack.Seqs.Count } });
                }
                else if (frame.Sync is not null)
                {
                    await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, QueueEmpty = new QueueEmpty() });
                }
            }
        });
        await using var client = server.NewClient(_profile.Path);
        var raised = new ConcurrentQueue<StoredMessage>();
        client.MessageReceived += (_, e) => raised.Enqueue(e.Message);

        await client.SyncAsync().WaitAsync(Limit);
        var deadline = DateTime.UtcNow + Limit;
        while (acked.Count < 6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(new ulong[] { 1, 2, 3, 4, 5, 6 }, acked.Order());
        var message = Assert.Single(raised);
        Assert.Equal((MessageId.ToText(good), "the good one", "alice"), (message.Id, message.Text, message.Sender));
        Assert.Single(client.GetConversation("alice"));
    }

    [Fact]
    public async Task Receipts_for_another_conversation_do_not_move_a_message()
    {
        var receiptAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new HostileServer(async (ws, _) =>
        {
            while (await HostileServer.ReceiveAsync(ws) is { } frame)
            {
                if (frame.GetDevices is { } get)
                {
                    var list = new DeviceList { User = get.User };
                    list.DeviceIds.Add(1);
                    await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, DeviceList = list });
                }
                else if (frame.Send is { } send)
                {
                    await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, SendResult = new SendResult { MessageId = send.MessageId } });
                    // mallory claims to have read bob's message to carol.
                    var receipt = new Envelope { Seq = 1, Kind = EnvelopeKind.ReadReceipt, Sender = "mallory", SenderDevice = 1 };
                    receipt.ReceiptIds.Add(send.MessageId);
                    await HostileServer.SendAsync(ws, new ServerFrame { Envelope = receipt });
                }
                else if (frame.Ack is { } ack)
                {
                    await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, AckResult = new AckResult { Acked = (uint)ack.Seqs.Count } });
                    if (ack.Seqs.Contains(1ul))
                    {
                        receiptAcked.TrySetResult();
                    }
                }
            }
        });
        await using var client = server.NewClient(_profile.Path);
        var statuses = new ConcurrentQueue<MessageStatusChangedEventArgs>();
        client.MessageStatusChanged += (_, e) => statuses.Enqueue(e);

        var id = await client.SendTextAsync("carol", "for carol only").WaitAsync(Limit);
        await receiptAcked.Task.WaitAsync(Limit); // the client has handled the receipt (it acks only after)

        Assert.Equal(MessageStatus.Sent, client.FindMessage(id)!.Status);
        Assert.Equal([MessageStatus.Sent], statuses.Select(s => s.Status));
    }

    [Fact]
    public async Task A_server_that_stops_answering_pings_is_dropped_and_redialled()
    {
        var pings = 0;
        await using var server = new HostileServer(async (ws, n) =>
        {
            while (await HostileServer.ReceiveAsync(ws) is { } frame)
            {
                if (frame.Ping is { } ping)
                {
                    Interlocked.Increment(ref pings);
                    if (n > 1)
                    {
                        await HostileServer.SendAsync(ws, new ServerFrame { RequestId = frame.RequestId, Pong = new Pong { ClientTime = ping.ClientTime } });
                    }
                    // The first connection reads pings but never answers: a half-dead link.
                }
            }
        });
        using (var store = Storage.ClientStore.Open(_profile.Path))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(server.BaseUri, "bob", 1, "secret"));
        }
        await using var client = ParleyClient.Open(_profile.Path, new ParleyClientOptions
        {
            PingInterval = TimeSpan.FromMilliseconds(100),
            ResponseTimeout = TimeSpan.FromMilliseconds(300),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        });
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == ConnectionState.Disconnected)
            {
                dropped.TrySetResult();
            }
        };

        await client.ConnectAsync();
        await dropped.Task.WaitAsync(Limit);
        await client.ConnectAsync().WaitAsync(Limit);

        Assert.True(Volatile.Read(ref pings) >= 1);
        Assert.True(server.Connections >= 2);
    }

    [Fact]
    public async Task A_link_request_whose_device_name_breaks_the_rules_is_not_shown_as_the_server_gave_it()
    {
        // The server checks names; one that still sends "alice's phone" spelled backwards behind a
        // right-to-left override must not get it in front of the person approving the link.
        var names = new Queue<string>(["\u202Eenohp s'ecila", "line\nbreak", "Bob's laptop 💻"]);
        await using var server = new HostileServer((_, _) => Task.CompletedTask)
        {
            Http = async context =>
            {
                Assert.Equal("GET", context.Request.HttpMethod);
                context.Response.ContentType = "application/json";
                var info = new LinkChannelInfo(names.Dequeue(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
                await System.Text.Json.JsonSerializer.SerializeAsync(context.Response.OutputStream, info, Provisioning.AccountProvisioning.Json);
            },
        };
        await using var client = server.NewClient(_profile.Path);
        var key = Crypto.Keys.EcKeyPair.Generate().PublicKey;
        var code = new Devices.LinkCode("AAAAAAAAAAAAAAAAAAAAAA", key).ToString();

        Assert.Equal("(a malformed device name)", (await client.GetPendingLinkAsync(code)).DeviceName);
        Assert.Equal("(a malformed device name)", (await client.GetPendingLinkAsync(code)).DeviceName);
        var good = await client.GetPendingLinkAsync(code);
        Assert.Equal("Bob's laptop 💻", good.DeviceName);
        Assert.Equal(Devices.LinkCode.FingerprintOf(key), good.Fingerprint);
    }
}
