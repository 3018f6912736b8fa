using System.Net.WebSockets;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>The System.Net.WebSockets framing kept for the benchmark comparison (Parley:StandardWebSockets) serves the same protocol.</summary>
public sealed class StandardWebSocketTests
{
    [Fact]
    public async Task With_standard_websockets_a_message_is_delivered_acked_and_receipted()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.StandardWebSockets = true);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);

        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: "hello bob"))).BodyCase);
        var delivered = (await b.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal("hello bob", delivered.Payload.ToStringUtf8());
        Assert.Equal(1u, (await b.RequestAsync(Wire.Ack(delivered.Seq))).AckResult.Acked);
        Assert.Equal(EnvelopeKind.DeliveryReceipt, (await a.ReceiveEnvelopeAsync()).Envelope.Kind);
    }

    [Fact]
    public async Task With_standard_websockets_a_text_frame_closes_with_1003()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.StandardWebSockets = true);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await a.SendRawAsync("hi"u8.ToArray(), WebSocketMessageType.Text);
        var (status, _) = await a.ReadUntilClosedAsync();
        Assert.Equal(Parley.Server.Gateway.CloseCodes.UnsupportedData, status);
    }
}
