using Parley.Client;

namespace Parley.EndToEnd.Tests;

public sealed class ReplacedConnectionTests
{
    [Fact]
    public async Task A_replaced_connection_stops_by_default()
    {
        await using var server = await TestServer.StartAsync();
        var first = await server.RegisterAsync("alice");
        await first.ConnectAsync(Wait.Token());
        var replaced = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        first.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == ConnectionState.Disconnected)
            {
                replaced.TrySetResult(e.Error);
            }
        };

        var second = server.Reopen(first.ProfileDirectory);
        await second.ConnectAsync(Wait.Token());

        var why = Assert.IsType<ParleyException>(await replaced.Task.WaitAsync(Wait.Limit));
        Assert.Contains("replaced", why.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Disconnected, first.State);
        Assert.Equal(ConnectionState.Connected, second.State);
    }

    [Fact]
    public async Task A_view_that_retries_when_replaced_takes_the_device_back_after_a_one_shot_command()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await server.RegisterAsync("bob");
        await alice.DisposeAsync();
        var options = Wait.Options();
        options.ReplacedRetryDelay = TimeSpan.FromSeconds(2); // long enough for the one-shot to finish first
        await using var view = ParleyClient.Open(alice.ProfileDirectory, options);
        await view.ConnectAsync(Wait.Token());
        var states = new List<ConnectionState>();
        view.ConnectionStateChanged += (_, e) =>
        {
            lock (states)
            {
                states.Add(e.State);
            }
        };

        // A one-shot command on the same profile: connects (evicting the view), sends, leaves.
        await using (var oneShot = ParleyClient.Open(alice.ProfileDirectory, Wait.Options()))
        {
            await oneShot.SendTextAsync("bob", "from the side", Wait.Token());
        }

        await Wait.UntilAsync(() =>
        {
            lock (states)
            {
                return states.Contains(ConnectionState.Disconnected) && states[^1] == ConnectionState.Connected;
            }
        }, "the view to be replaced and then connected again");
        Assert.Single(view.GetConversation("bob"), m => m.Text == "from the side");
    }
}
