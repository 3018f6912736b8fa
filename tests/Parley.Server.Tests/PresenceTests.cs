using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Contacts;
using Parley.Server.Gateway;
using Parley.Server.Presence;

namespace Parley.Server.Tests;

/// <summary>Presence subscriptions against the real server's hub and connections.</summary>
public sealed class PresenceTests
{
    [Fact]
    public async Task A_subscription_handled_after_its_connection_went_offline_watches_nobody()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(new ClientFrame { PresenceVisibility = new SetPresenceVisibility { Visibility = PresenceVisibility.Everyone } })).BodyCase);
        var registry = fx.Server.App.Services.GetRequiredService<ConnectionRegistry>();
        var hub = fx.Server.App.Services.GetRequiredService<PresenceHub>();

        // Bob's connection closes, and alice (watching him) hears he went offline: the hub is done with it.
        DeviceConnection connection;
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { PresenceVisibility = new SetPresenceVisibility { Visibility = PresenceVisibility.Everyone } })).BodyCase);
            Assert.True(Assert.Single((await a.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { "bob" } } })).PresenceSnapshot.Users).Online);
            connection = registry.Connections.Single(c => c.Account.User == "bob");
        }
        Assert.False((await a.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PresenceUpdate)).PresenceUpdate.Online);

        // A SubscribePresence of bob's still being handled then (requests run apart from the
        // receive loop) must not leave the closed connection among alice's watchers for good.
        var late = hub.Subscribe(connection, ["alice"]);
        Assert.Empty(late.Users);
        Assert.Empty(connection.WatchedAccounts);
    }

    [Fact]
    public async Task Past_the_watch_cap_users_are_left_out_of_the_snapshot_rather_than_shown_and_never_updated()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.RegistrationsPerMinutePerAddress = 10_000);
        var users = Enumerable.Range(0, PresenceHub.MaxWatchedPerConnection + 2).Select(i => $"user{i:D4}").ToArray();
        var credentials = new System.Collections.Concurrent.ConcurrentDictionary<string, DeviceCredentials>();
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (user, _) => credentials[user] = await RawClient.RegisterAsync(fx.Server, user));
        var directory = fx.Server.App.Services.GetRequiredService<AccountDirectory>();
        var contacts = fx.Server.App.Services.GetRequiredService<ContactBook>();
        foreach (var user in users)
        {
            contacts.SetVisibility(directory.Find(user)!.Id, PresenceVisibility.Everyone);
        }
        var watcher = await RawClient.RegisterAsync(fx.Server, "watcher");
        await using var w = await RawClient.ConnectAsync(fx.Server, watcher);

        var first = await w.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { users[..1000] } } });
        Assert.Equal(1000, first.PresenceSnapshot.Users.Count);
        // 24 more fit; the last two would not be watched, so they are not shown either. Users
        // already watched still are.
        var second = await w.RequestAsync(new ClientFrame { Presence = new SubscribePresence { Users = { users[990..] } } });
        Assert.Equal(users[990..^2], second.PresenceSnapshot.Users.Select(u => u.User));

        // Each user shown is one whose changes come: the last one shown goes online, and the watcher hears it.
        await using var shown = await RawClient.ConnectAsync(fx.Server, credentials[users[^3]]);
        Assert.Equal(users[^3], (await w.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PresenceUpdate && f.PresenceUpdate.Online)).PresenceUpdate.User);
    }
}
