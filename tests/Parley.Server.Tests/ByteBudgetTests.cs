using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Server.Tests;

/// <summary>What one connection may hold is bounded in bytes, not only in frames.</summary>
public sealed class ByteBudgetTests
{
    [Fact]
    public async Task Envelopes_in_flight_stop_at_the_byte_budget_and_resume_on_ack()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxInFlightBytes = 10 * 1024);
        var registry = fx.Server.App.Services.GetRequiredService<ConnectionRegistry>();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var text = new string('x', 8 * 1024);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", text: text))).BodyCase);
        }

        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        var bobConnection = registry.Connections.Single(c => c.Account.User == "bob");
        var first = (await b.ReceiveEnvelopeAsync()).Envelope;
        var second = (await b.ReceiveEnvelopeAsync()).Envelope;
        // Two 8 KiB envelopes pass 10 KiB: the window is full, the other three wait in the queue.
        Assert.InRange(bobConnection.InFlightBytes, 16 * 1024, 18 * 1024);

        await b.SendAsync(Wire.Ack(first.Seq, second.Seq), request: false);
        var third = (await b.ReceiveEnvelopeAsync()).Envelope;
        var fourth = (await b.ReceiveEnvelopeAsync()).Envelope;
        Assert.Equal([first.Seq + 1, first.Seq + 2, first.Seq + 3], new[] { second.Seq, third.Seq, fourth.Seq });
    }

    [Fact]
    public async Task Requests_wait_for_room_in_bytes_and_one_larger_than_the_budget_still_passes_alone()
    {
        var budget = new RequestBudget(maxRequests: 100, maxBytes: 1000);
        await budget.TakeAsync(600, CancellationToken.None);
        var second = budget.TakeAsync(600, CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        budget.Release(600);
        await second;
        Assert.Equal((1, 600L), (budget.Requests, budget.Bytes));

        budget.Release(600);
        await budget.TakeAsync(5000, CancellationToken.None); // alone: larger than the whole budget
        Assert.Equal(5000, budget.Bytes);
    }
}
