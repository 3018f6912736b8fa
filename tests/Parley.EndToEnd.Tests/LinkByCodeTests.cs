using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Client;
using Parley.Client.Events;

namespace Parley.EndToEnd.Tests;

/// <summary>Linking a device by code through the server's provisioning relay: CLI and SDK, refusals.</summary>
public sealed class LinkByCodeTests
{
    /// <summary>The system clock moved forward by <see cref="Offset"/> (timers still run in real time).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    [Fact]
    public async Task A_device_links_by_code_over_the_cli_and_then_receives_without_any_contact_warning()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var phoneDir = server.NewProfileDir();
        var laptopDir = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", phoneDir)).ExitCode);
        var bob = await server.RegisterAsync("bob");
        var changes = new ConcurrentQueue<IdentityChangedEventArgs>();
        bob.IdentityChanged += (_, e) => changes.Enqueue(e);
        await bob.SendTextAsync("alice", "before the link", Wait.Token());
        var safetyNumber = await bob.GetSafetyNumberAsync("alice", Wait.Token());

        using var request = Cli.Start("link", "request", "--server", url, "--device-name", "laptop", "--profile", laptopDir, "--json");
        var first = JsonDocument.Parse((await request.StandardOutput.ReadLineAsync().WaitAsync(Wait.Limit))!).RootElement;
        var code = first.GetProperty("link_code").GetString()!;
        var approved = await Cli.RunAsync("link", "approve", code, "--yes", "--profile", phoneDir, "--json");
        var done = await Cli.FinishAsync(request);

        Assert.Equal(0, approved.ExitCode);
        Assert.Equal(("laptop", 2u, first.GetProperty("fingerprint").GetString()),
            (approved.Single.GetProperty("device_name").GetString(), approved.Single.GetProperty("device_id").GetUInt32(), approved.Single.GetProperty("fingerprint").GetString()));
        Assert.Equal(0, done.ExitCode);
        var linked = Assert.Single(done.Json);
        Assert.Equal(("alice", 2u), (linked.GetProperty("user").GetString(), linked.GetProperty("device_id").GetUInt32()));

        var laptop = server.Reopen(laptopDir);
        var inbox = new Inbox(laptop);
        await bob.SendTextAsync("alice", "after the link", Wait.Token());
        await laptop.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);
        Assert.Equal(["after the link"], inbox.Texts);
        Assert.Empty(changes);
        Assert.Equal(safetyNumber, await bob.GetSafetyNumberAsync("alice", Wait.Token()));
        Assert.Equal(safetyNumber, await laptop.GetSafetyNumberAsync("bob", Wait.Token()));
        Assert.False(laptop.IsPrimaryDevice);
    }

    [Fact]
    public async Task Wrong_reused_and_expired_codes_are_refused_with_clear_errors()
    {
        var time = new ShiftedTime();
        await using var server = await TestServer.StartAsync(time: time);
        var alice = await server.RegisterAsync("alice");

        var garbage = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync("not-a-code", Wait.Token()));
        Assert.Equal("bad_link_code", garbage.ApiCode);
        var first = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "tablet", Wait.Options(), Wait.Token());
        var unknown = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync((first.Code[0] == 'A' ? "B" : "A") + first.Code[1..], Wait.Token()));
        Assert.Equal("bad_link_code", unknown.ApiCode);
        Assert.Contains("no such link code", unknown.Message, StringComparison.Ordinal);

        Assert.Equal(("tablet", first.Fingerprint), ((await alice.GetPendingLinkAsync(first.Code, Wait.Token())).DeviceName, (await alice.GetPendingLinkAsync(first.Code, Wait.Token())).Fingerprint));
        Assert.Equal(2u, await alice.ApproveLinkAsync(first.Code, Wait.Token()));
        await using var tablet = await first.Linked.WaitAsync(Wait.Limit);
        Assert.Equal(2u, tablet.Credentials.DeviceId);
        var reused = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync(first.Code, Wait.Token()));
        Assert.Equal("link_code_used", reused.ApiCode);
        var notPrimary = await Assert.ThrowsAsync<ParleyException>(() => tablet.ApproveLinkAsync(first.Code, Wait.Token()));
        Assert.Equal("not_primary", notPrimary.ApiCode);

        var late = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "late", Wait.Options(), Wait.Token());
        time.Offset = TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1);
        var expired = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync(late.Code, Wait.Token()));
        Assert.Equal("link_code_expired", expired.ApiCode);
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);
        var waited = await Assert.ThrowsAsync<ParleyException>(() => late.Linked.WaitAsync(Wait.Limit)); // the new device is told too
        Assert.Equal("link_code_expired", waited.ApiCode);
        Assert.Equal([1u, 2u], await alice.GetDevicesAsync("alice", Wait.Token())); // nothing was added for the refused codes
    }

    [Fact]
    public async Task An_account_at_its_device_limit_refuses_another_link()
    {
        await using var server = await TestServer.StartAsync(o => o.Limits.MaxDevicesPerAccount = 2);
        var alice = await server.RegisterAsync("alice");
        var second = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "second", Wait.Options(), Wait.Token());
        await alice.ApproveLinkAsync(second.Code, Wait.Token());
        await using var linked = await second.Linked.WaitAsync(Wait.Limit);
        using var giveUp = new CancellationTokenSource();
        var third = await ParleyClient.RequestLinkAsync(server.NewProfileDir(), server.BaseUri, "third", Wait.Options(), giveUp.Token);

        var refused = await Assert.ThrowsAsync<ParleyException>(() => alice.ApproveLinkAsync(third.Code, Wait.Token()));

        Assert.Equal("too_many_devices", refused.ApiCode);
        Assert.Contains("at most 2 devices", refused.Message, StringComparison.Ordinal);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third.Linked);
    }
}
