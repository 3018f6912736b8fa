using System.Buffers.Binary;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>The server's own RFC 6455 framing, byte by byte: what clients may do, and what they may not.</summary>
public sealed class WebSocketFramingTests
{
    private static byte[] HelloBytes(DeviceCredentials c) =>
        new ClientFrame { RequestId = 1, Hello = RawClient.Hello(c) }.ToByteArray();

    [Fact]
    public async Task A_message_in_fragments_with_a_ping_between_them_is_assembled_and_the_ping_answered()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        var hello = HelloBytes(alice);
        int third = hello.Length / 3;
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, hello.AsSpan(0, third), fin: false));
        await c.WriteAsync(
            FramingClient.Frame(FramingClient.Ping, "are you there"u8),
            FramingClient.Frame(FramingClient.Continuation, hello.AsSpan(third, third), fin: false),
            FramingClient.Frame(FramingClient.Pong, "unsolicited"u8), // a keep-alive: ignored
            FramingClient.Frame(FramingClient.Continuation, hello.AsSpan(2 * third), fin: true));

        var (opcode, payload) = await c.ReadFrameAsync();
        Assert.Equal(FramingClient.Pong, opcode);
        Assert.Equal("are you there"u8.ToArray(), payload);
        var welcome = await c.ReadMessageAsync();
        Assert.Equal(ServerFrame.BodyOneofCase.Welcome, welcome.BodyCase);
        Assert.Equal(1ul, welcome.RequestId);
    }

    [Fact]
    public async Task Many_frames_written_at_once_are_all_answered_in_order()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice)));
        while ((await c.ReadMessageAsync()).BodyCase != ServerFrame.BodyOneofCase.QueueEmpty)
        {
        }

        var pings = Enumerable.Range(100, 50)
            .Select(i => FramingClient.Message(new ClientFrame { RequestId = (ulong)i, Ping = new Ping { ClientTime = i } }))
            .ToArray();
        await c.WriteAsync(pings);
        for (int i = 100; i < 150; i++)
        {
            var pong = await c.ReadMessageAsync();
            Assert.Equal(ServerFrame.BodyOneofCase.Pong, pong.BodyCase);
            Assert.Equal((ulong)i, pong.RequestId);
            Assert.Equal(i, pong.Pong.ClientTime);
        }
    }

    [Fact]
    public async Task A_large_message_with_a_16_bit_length_arrives_whole()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await RawClient.RegisterAsync(fx.Server, "bob");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice)));
        while ((await c.ReadMessageAsync()).BodyCase != ServerFrame.BodyOneofCase.QueueEmpty)
        {
        }
        var send = Wire.Send("bob");
        send.RequestId = 7;
        send.Send.Payloads[0].Payload = ByteString.CopyFrom(new byte[40_000]);
        await c.WriteAsync(FramingClient.Message(send));
        var answer = await c.ReadMessageAsync();
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, answer.BodyCase);
        Assert.Equal(7ul, answer.RequestId);
    }

    [Fact]
    public async Task An_unmasked_client_frame_is_refused_with_close_1002()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice), masked: false));
        var (status, _) = await c.ReadUntilCloseAsync();
        Assert.Equal(1002, status);
    }

    [Fact]
    public async Task Reserved_bits_without_an_extension_are_refused_with_close_1002()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice), reserved: 0x40));
        var (status, _) = await c.ReadUntilCloseAsync();
        Assert.Equal(1002, status);
    }

    [Fact]
    public async Task A_continuation_with_nothing_to_continue_is_refused_with_close_1002()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice)));
        while ((await c.ReadMessageAsync()).BodyCase != ServerFrame.BodyOneofCase.QueueEmpty)
        {
        }
        await c.WriteAsync(FramingClient.Frame(FramingClient.Continuation, [1, 2, 3]));
        var (status, before) = await c.ReadUntilCloseAsync();
        Assert.Equal(1002, status);
        Assert.Contains(before, f => f.Opcode == FramingClient.Binary && ServerFrame.Parser.ParseFrom(f.Payload).Error?.Code == ErrorCode.BadRequest);
    }

    [Fact]
    public async Task A_header_claiming_a_huge_length_is_refused_with_close_1009_before_any_payload()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice)));
        while ((await c.ReadMessageAsync()).BodyCase != ServerFrame.BodyOneofCase.QueueEmpty)
        {
        }
        // FIN + binary, masked, 64-bit length of 1 TiB, the mask, and no payload at all.
        var header = new byte[14];
        header[0] = 0x82;
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), 1UL << 40);
        await c.WriteAsync(header);
        var (status, before) = await c.ReadUntilCloseAsync();
        Assert.Equal(1009, status);
        Assert.Contains(before, f => f.Opcode == FramingClient.Binary && ServerFrame.Parser.ParseFrom(f.Payload).Error?.Code == ErrorCode.TooLarge);
    }

    [Fact]
    public async Task A_close_from_the_client_is_answered_with_a_close_and_the_connection_ends()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var c = await FramingClient.OpenAsync(fx.Server);
        await c.WriteAsync(FramingClient.Frame(FramingClient.Binary, HelloBytes(alice)));
        while ((await c.ReadMessageAsync()).BodyCase != ServerFrame.BodyOneofCase.QueueEmpty)
        {
        }
        await c.WriteAsync(FramingClient.Frame(FramingClient.Close, [0x03, 0xE8])); // 1000
        var (status, _) = await c.ReadUntilCloseAsync();
        Assert.Equal(1000, status);
        Assert.True(await c.EndsAsync());
    }
}
