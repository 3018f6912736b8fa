using System.Net.WebSockets;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Messaging;

namespace Parley.Server.Tests;

/// <summary>Hostile or broken input gets a clear error or close code, and everyone else keeps being served.</summary>
public sealed class BadInputTests
{
    /// <summary>Alice can still send to Bob and Bob still receives: the server is unharmed.</summary>
    private static async Task AssertStillServingAsync(ServerFixture fx, Protocol.DeviceCredentials alice, Protocol.DeviceCredentials bob)
    {
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: "still here"))).BodyCase);
        var e = await b.ReceiveEnvelopeAsync();
        Assert.Equal("still here", e.Envelope.Payload.ToStringUtf8());
    }

    private static async Task<(ServerFixture, Protocol.DeviceCredentials, Protocol.DeviceCredentials)> StartAsync(Action<Configuration.ParleyOptions>? configure = null)
    {
        var fx = await ServerFixture.StartAsync(configure);
        return (fx, await RawClient.RegisterAsync(fx.Server, "alice"), await RawClient.RegisterAsync(fx.Server, "bob"));
    }

    [Fact]
    public async Task A_frame_that_is_not_protobuf_gets_BAD_REQUEST_and_close_1003()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        await c.SendRawAsync([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]);
        var (status, frames) = await c.ReadUntilClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, status);
        Assert.Contains(frames, f => f.Error?.Code == ErrorCode.BadRequest);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_text_frame_is_refused_with_close_1003()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        await c.SendRawAsync("hello"u8.ToArray(), WebSocketMessageType.Text);
        var (status, _) = await c.ReadUntilClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, status);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_frame_over_the_size_limit_gets_close_1009()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        // The server refuses on the frame's header, then reads and drops the rest before it closes:
        // the write completes, and no TCP reset destroys the answer before it is read.
        await c.SendRawAsync(new byte[WireLimits.MaxFrameBytes + 1024]);
        var (status, frames) = await c.ReadUntilClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Contains(frames, f => f.Error?.Code == ErrorCode.TooLarge);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_in_fragments_gets_close_1009_while_the_client_goes_on_writing()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        // Each fragment is under the limit; the second takes the message over it, and the client
        // goes on writing a third, as a client that does not read would.
        var chunk = new byte[WireLimits.MaxFrameBytes / 2 + 1];
        for (int i = 0; i < 3; i++)
        {
            await c.SendFragmentAsync(chunk, endOfMessage: false);
        }
        var (status, frames) = await c.ReadUntilClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Contains(frames, f => f.Error?.Code == ErrorCode.TooLarge);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_client_that_writes_on_past_the_drain_limit_after_its_close_is_cut_off()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        // Fragments of one message that never ends: past the frame limit the server closes, then
        // drops what still comes for at most 1 MiB and cuts the connection. Without that cap it
        // would read on for the whole close grace, and this loop would reach its end unhindered.
        var chunk = new byte[64 * 1024];
        long written = 0;
        var cut = await Record.ExceptionAsync(async () =>
        {
            while (written < 256L * 1024 * 1024)
            {
                await c.SendFragmentAsync(chunk, endOfMessage: false);
                written += chunk.Length;
            }
        });
        Assert.True(cut is WebSocketException or IOException, $"still writing after {written} bytes ({cut?.GetType().Name})");
        // The frame limit, the drain's 1 MiB and what the two kernels' socket buffers hold.
        Assert.InRange(written, WireLimits.MaxFrameBytes, 32L * 1024 * 1024);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_payload_over_its_limit_is_refused_with_TOO_LARGE_and_the_connection_stays()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        var frame = Wire.Send("bob");
        frame.Send.Payloads[0].Payload = ByteString.CopyFrom(new byte[WireLimits.MaxPayloadBytes + 1]);
        Assert.Equal(ErrorCode.TooLarge, (await c.RequestAsync(frame)).Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await c.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
    }

    [Fact]
    public async Task An_unknown_frame_type_gets_UNKNOWN_TYPE_and_the_connection_stays()
    {
        var (fx, alice, _) = await StartAsync();
        await using var __ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        // Field 99 is no ClientFrame body this server knows: a newer client's frame.
        var unknown = new ClientFrame { RequestId = 7 }.ToByteArray().Concat(new byte[] { 0x9A, 0x06, 0x01, 0x00 }).ToArray();
        await c.SendRawAsync(unknown);
        var answer = await c.ReceiveAsync(f => f.RequestId == 7);
        Assert.Equal(ErrorCode.UnknownType, answer.Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await c.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
    }

    [Fact]
    public async Task A_send_to_an_unknown_user_gets_UNKNOWN_USER()
    {
        var (fx, alice, _) = await StartAsync();
        await using var __ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ErrorCode.UnknownUser, (await c.RequestAsync(Wire.Send("nobody"))).Error.Code);
        Assert.Equal(ErrorCode.UnknownUser, (await c.RequestAsync(Wire.Send("Not A Name!"))).Error.Code);
        var badId = Wire.Send("bob", messageId: new byte[3]);
        Assert.Equal(ErrorCode.BadRequest, (await c.RequestAsync(badId)).Error.Code);
    }

    [Fact]
    public async Task Wrong_credentials_get_UNAUTHORIZED_and_close_1008()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        foreach (var hello in new[]
        {
            RawClient.Hello(alice, password: "wrong"),
            RawClient.Hello(alice with { DeviceId = 9 }),
            RawClient.Hello(alice with { User = "mallory" }),
        })
        {
            await using var c = await RawClient.OpenAsync(fx.Server);
            await c.SendAsync(new ClientFrame { Hello = hello });
            var (status, frames) = await c.ReadUntilClosedAsync();
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
            Assert.Equal(ErrorCode.Unauthorized, Assert.Single(frames).Error.Code);
        }
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task A_request_before_Hello_gets_UNAUTHORIZED_and_an_unknown_version_UNSUPPORTED_VERSION()
    {
        var (fx, alice, _) = await StartAsync();
        await using var __ = fx;
        await using (var c = await RawClient.OpenAsync(fx.Server))
        {
            await c.SendAsync(Wire.Send("bob"));
            var (status, frames) = await c.ReadUntilClosedAsync();
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
            Assert.Equal(ErrorCode.Unauthorized, Assert.Single(frames).Error.Code);
        }
        await using (var c = await RawClient.OpenAsync(fx.Server))
        {
            var hello = RawClient.Hello(alice);
            hello.ProtocolVersions.Clear();
            hello.ProtocolVersions.Add(99);
            await c.SendAsync(new ClientFrame { Hello = hello });
            var (status, frames) = await c.ReadUntilClosedAsync();
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
            Assert.Equal(ErrorCode.UnsupportedVersion, Assert.Single(frames).Error.Code);
        }
    }

    [Fact]
    public async Task Acks_for_envelopes_that_do_not_exist_or_belong_to_another_device_are_refused_and_delete_nothing()
    {
        var (fx, alice, bob) = await StartAsync();
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await a.RequestAsync(Wire.Send("bob", text: "for bob"));
        var bobsSeq = (await b.ReceiveEnvelopeAsync()).Envelope.Seq;

        // Alice acks Bob's envelope and one that never existed: both unknown to her connection.
        var result = await a.RequestAsync(Wire.Ack(bobsSeq, 999_999));
        Assert.Equal(0u, result.AckResult.Acked);
        Assert.Equal([bobsSeq, 999_999UL], result.AckResult.UnknownSeqs);

        // A fire-and-forget ack of an unknown seq still gets a NOT_FOUND error push.
        await a.SendAsync(Wire.Ack(424_242), request: false);
        Assert.Equal(ErrorCode.NotFound, (await a.ReceiveAsync(f => f.Error is not null)).Error.Code);

        // Bob's envelope was not deleted: unacked, he gets it again on his next connection.
        await b.DisposeAsync();
        await using var again = await RawClient.ConnectAsync(fx.Server, bob);
        Assert.Equal("for bob", (await again.ReceiveEnvelopeAsync()).Envelope.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_flooding_client_is_rate_limited_then_closed_while_others_are_served()
    {
        var (fx, alice, bob) = await StartAsync(o =>
        {
            o.Limits.FramesPerSecond = 20;
            o.Limits.FrameBurst = 20;
            o.Limits.MaxRefusedFrames = 200;
        });
        await using var _ = fx;
        var mallory = await RawClient.RegisterAsync(fx.Server, "mallory");
        await using var m = await RawClient.ConnectAsync(fx.Server, mallory);
        var ping = new ClientFrame { Ping = new Ping() }.ToByteArray();
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                await m.SendRawAsync(new ClientFrame { RequestId = (ulong)i + 100, Ping = new Ping() }.ToByteArray());
            }
        }
        catch (WebSocketException)
        {
            // The server may close before the flood is fully written.
        }
        var (status, frames) = await m.ReadUntilClosedAsync();
        Assert.Contains(frames, f => f.Error?.Code == ErrorCode.RateLimited && f.Error.RetryAfterMs > 0);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task Fire_and_forget_acks_that_free_envelopes_pass_an_empty_frame_budget_and_acks_of_nothing_are_counted()
    {
        var (fx, alice, bob) = await StartAsync(o =>
        {
            o.Limits.FramesPerSecond = 1;
            o.Limits.FrameBurst = 40;
            o.Limits.MaxRefusedFrames = 10;
        });
        await using var _ = fx;
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        // Bob spends his whole burst first.
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await b.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
        }
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            for (int i = 0; i < 30; i++)
            {
                Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: $"m{i}"))).BodyCase);
            }
        }

        // Thirty acks, one frame each, far past the empty bucket: every one is taken.
        for (int i = 0; i < 30; i++)
        {
            await b.SendAsync(Wire.Ack((await b.ReceiveEnvelopeAsync()).Envelope.Seq), request: false);
        }
        var store = fx.Server.App.Services.GetRequiredService<IMessageStore>();
        var bobAccount = fx.Server.App.Services.GetRequiredService<AccountDirectory>().Find("bob")!;
        await Wait.UntilAsync(() => store.Usage(new DeviceAddress(bobAccount.Id, bob.DeviceId).Key).Envelopes == 0);

        // Acks that free nothing are frames like any other: past the limit they close the connection.
        try
        {
            for (int i = 0; i < 40; i++)
            {
                await b.SendAsync(Wire.Ack(1_000_000 + (ulong)i), request: false);
            }
        }
        catch (WebSocketException)
        {
            // The server may close before the flood is fully written.
        }
        var (status, frames) = await b.ReadUntilClosedAsync();
        Assert.DoesNotContain(frames, f => f.Error?.Code == ErrorCode.RateLimited);
        Assert.Contains(frames, f => f.Error?.Code == ErrorCode.NotFound);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        await AssertStillServingAsync(fx, alice, bob);
    }

    [Fact]
    public async Task When_the_server_is_full_new_connections_get_close_1013_and_existing_ones_keep_working()
    {
        var (fx, alice, bob) = await StartAsync(o => o.Limits.MaxConnections = 2);
        await using var _ = fx;
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await using (var third = await RawClient.OpenAsync(fx.Server))
        {
            var (status, _) = await third.ReadUntilClosedAsync();
            Assert.Equal((WebSocketCloseStatus)1013, status);
        }
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: "full house"))).BodyCase);
        Assert.Equal("full house", (await b.ReceiveEnvelopeAsync()).Envelope.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_second_connection_of_the_same_device_replaces_the_first_with_close_4001()
    {
        var (fx, alice, _) = await StartAsync();
        await using var __ = fx;
        await using var first = await RawClient.ConnectAsync(fx.Server, alice);
        await using var second = await RawClient.ConnectAsync(fx.Server, alice);
        var (status, _) = await first.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)4001, status);
        Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await second.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
    }

    [Fact]
    public async Task Clients_may_not_forge_receipts_through_SendMessage()
    {
        var (fx, alice, _) = await StartAsync();
        await using var __ = fx;
        await using var c = await RawClient.ConnectAsync(fx.Server, alice);
        var forged = Wire.Send("bob");
        forged.Send.Kind = EnvelopeKind.DeliveryReceipt;
        Assert.Equal(ErrorCode.BadRequest, (await c.RequestAsync(forged)).Error.Code);
    }

    [Fact]
    public async Task A_connection_silent_past_the_idle_timeout_is_closed_with_4002_and_a_pinging_one_is_kept()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.IdleTimeoutSeconds = 75, clock);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var silent = await RawClient.ConnectAsync(fx.Server, alice);
        await using var pinging = await RawClient.ConnectAsync(fx.Server, bob);
        for (int i = 0; i < 4; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(25));
            Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await pinging.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
        }
        clock.Advance(TimeSpan.FromSeconds(15)); // one more sweep tick
        var (status, _) = await silent.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)4002, status);
        Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await pinging.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
    }
}
