using System.Collections.Concurrent;
using Parley.Client;
using Parley.Client.Devices;
using Parley.Client.Events;

namespace Parley.EndToEnd.Tests;

/// <summary>The account's other devices learn when a device is linked or removed; the primary's lists keep up with devices that removed themselves.</summary>
public sealed class DeviceNoticeTests
{
    [Fact]
    public async Task Linking_and_removing_a_device_is_announced_once_on_the_accounts_other_devices_over_the_cli()
    {
        await using var server = await TestServer.StartAsync();
        var phone = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", phone)).ExitCode);
        var (_, laptop) = await LinkHistoryTests.LinkOverCliAsync(server, phone, "laptop");
        var (_, tablet) = await LinkHistoryTests.LinkOverCliAsync(server, phone, "tablet");

        var linked = await Cli.RunAsync("receive", "--profile", laptop);
        Assert.Equal(0, linked.ExitCode);
        Assert.Equal(["notice: a new device was linked to your account: tablet (device 3)"], Notices(linked));
        Assert.Empty(Notices(await Cli.RunAsync("receive", "--profile", tablet)));

        Assert.Equal(0, (await Cli.RunAsync("devices", "remove", "3", "--profile", phone)).ExitCode);
        Assert.Equal(["notice: a device was removed from your account: device 3"], Notices(await Cli.RunAsync("receive", "--profile", laptop)));
        Assert.Empty(Notices(await Cli.RunAsync("receive", "--profile", laptop)));
    }

    [Fact]
    public async Task A_device_that_removed_itself_leaves_the_primarys_next_list_and_a_connected_device_hears_of_the_next_link()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var primaryNotices = new ConcurrentQueue<AccountDeviceChangedEventArgs>();
        alice.AccountDeviceChanged += (_, e) => primaryNotices.Enqueue(e);
        var laptopRequest = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "laptop", Wait.Options(), Wait.Token());
        Assert.Equal(2u, await alice.ApproveLinkAsync(laptopRequest.Code, Wait.Token()));
        await using (var laptop = await laptopRequest.Linked.WaitAsync(Wait.Limit))
        {
            await laptop.RemoveDeviceAsync(2, Wait.Token());
        }

        // The primary was offline: its next list (for the next link) must not name device 2, and 2 is not given out again.
        var tabletRequest = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "tablet", Wait.Options(), Wait.Token());
        Assert.Equal(3u, await alice.ApproveLinkAsync(tabletRequest.Code, Wait.Token()));
        Assert.Equal([(2u, DeviceChange.Removed)], primaryNotices.Select(n => (n.DeviceId, n.Change)));
        await using var tablet = await tabletRequest.Linked.WaitAsync(Wait.Limit);
        var tabletNotices = new ConcurrentQueue<AccountDeviceChangedEventArgs>();
        tablet.AccountDeviceChanged += (_, e) => tabletNotices.Enqueue(e);
        var inbox = new Inbox(tablet);
        await tablet.SyncAsync(Wait.Token());
        await bob.SendTextAsync("alice", "to every listed device", Wait.Token());
        await inbox.CountAsync(1);

        var watchRequest = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "watch", Wait.Options(), Wait.Token());
        Assert.Equal(4u, await alice.ApproveLinkAsync(watchRequest.Code, Wait.Token()));
        await using var watch = await watchRequest.Linked.WaitAsync(Wait.Limit);
        await Wait.UntilAsync(() => !tabletNotices.IsEmpty, "the connected tablet hears of the watch");
        var notice = Assert.Single(tabletNotices);
        Assert.Equal((4u, "watch", DeviceChange.Linked), (notice.DeviceId, notice.Name, notice.Change));
        Assert.Equal("a new device was linked to your account: watch (device 4)", notice.Notice);
    }

    private static List<string> Notices(Cli.Run run) =>
        [.. run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("notice:", StringComparison.Ordinal))];
}
