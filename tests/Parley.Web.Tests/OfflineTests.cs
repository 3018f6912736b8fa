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

        var queued = alice.Message("while you were away").GetByTestId("ticks");
        await app.Server.KillAsync();
        try
        {
            await Assertions.Expect(alice.Page.GetByTestId("connection")).Not.ToHaveTextAsync("online");
            await alice.SendAsync("while you were away");
            await Assertions.Expect(queued).ToHaveAttributeAsync("data-status", "Pending");
            await Assertions.Expect(queued).ToHaveTextAsync("🕓");
        }
        finally
        {
            await app.Server.RestartAsync();
        }
        await Assertions.Expect(queued).ToHaveAttributeAsync("data-status", "Delivered");
        await Assertions.Expect(bob.ChatItem(a).GetByTestId("last-message")).ToHaveTextAsync("while you were away");
        await bob.ChatItem(a).ClickAsync();
        await Assertions.Expect(bob.Message("while you were away")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Registering_while_the_server_is_down_shows_the_server_unreachable_screen()
    {
        await using var carol = await AppPage.OpenAsync(app);
        await app.Server.KillAsync();
        try
        {
            await carol.Page.GetByTestId("user").FillAsync(Users.New("carol"));
            await carol.Page.GetByTestId("register").ClickAsync();
            await Assertions.Expect(carol.Page.GetByTestId("error-screen")).ToHaveAttributeAsync("data-error", "ServerUnreachable");
            await Assertions.Expect(carol.Page.GetByRole(AriaRole.Heading)).ToHaveTextAsync("The server cannot be reached");
        }
        finally
        {
            await app.Server.RestartAsync();
        }
    }
}
