using Parley.Client;
using Parley.Client.History;

namespace Parley.EndToEnd.Tests;

/// <summary>An approval that fails after it created the device takes the device back out.</summary>
public sealed class FailedApprovalTests
{
    /// <summary>The system clock moved forward by <see cref="Offset"/> (timers still run in real time).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    /// <summary>Runs an action on the first report, synchronously.</summary>
    private sealed class OnFirstReport(Action action) : IProgress<HistoryProgress>
    {
        private int _reports;

        public void Report(HistoryProgress value)
        {
            if (Interlocked.Increment(ref _reports) == 1)
            {
                action();
            }
        }
    }

    [Fact]
    public async Task An_approval_whose_code_expires_midway_leaves_no_device_on_the_server_or_in_the_list()
    {
        var time = new ShiftedTime();
        await using var server = await TestServer.StartAsync(time: time);
        var options = Wait.Options();
        // The device is created and listed by now; the code runs out before the credentials are handed over.
        options.HistoryProgress = new OnFirstReport(() => time.Offset = TimeSpan.FromMinutes(6));
        var alice = await ParleyClient.RegisterAsync(server.NewProfileDir(), server.BaseUri, "alice", options: options);
        await using var _ = alice;

        var request = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "laptop", Wait.Options(), Wait.Token());
        var failed = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync(request.Code, Wait.Token()));
        Assert.Equal("link_code_expired", failed.ApiCode);

        Assert.Equal([1u], (await alice.GetAccountDevicesAsync(Wait.Token())).Select(d => d.Id));
        // The list it publishes next names no device 2 (the server would refuse a list naming a device it lacks).
        time.Offset = TimeSpan.Zero;
        var again = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "laptop", Wait.Options(), Wait.Token());
        Assert.Equal(3u, await alice.ApproveLinkAsync(again.Code, Wait.Token()));
        await using var laptop = await again.Linked.WaitAsync(Wait.Limit);
        Assert.Equal([1u, 3u], (await laptop.GetAccountDevicesAsync(Wait.Token())).Select(d => d.Id));
    }
}
