using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>The server goes away and comes back: what was written meanwhile waits with a clock, then goes out.</summary>
public sealed class OfflineTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Message_written_while_the_server_is_down_shows_a_clock_and_is_sent_when_it_returns()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await alice.OpenChatAsync(b);
        await alice.SendAsync("first");
        await Assertions.Expect(bob.ChatItem(a).GetByTestId("last-message")).ToHaveTextAsync("first");

        await app.Server.StopAsync();
        await Assertions.Expect(alice.Page.GetByTestId("connection")).Not.ToHaveTextAsync("online");
        await alice.SendAsync("while you were away");
        var queued = alice.Message("while you were away").GetByTestId("ticks");
        await Assertions.Expect(queued).ToHaveAttributeAsync("data-status", "Pending");
        await Assertions.Expect(queued).ToHaveTextAsync("🕓");

        await app.Server.RestartAsync();
        await Assertions.Expect(queued).ToHaveAttributeAsync("data-status", "Delivered");
        await Assertions.Expect(bob.ChatItem(a).GetByTestId("last-message")).ToHaveTextAsync("while you were away");
        await bob.ChatItem(a).ClickAsync();
        await Assertions.Expect(bob.Message("while you were away")).ToHaveCountAsync(1);
    }
}
