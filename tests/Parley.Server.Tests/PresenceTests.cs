using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
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
}
