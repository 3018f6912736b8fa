using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>
/// A chat longer than a page: the list after a reload comes from the store's summaries, the chat
/// opens at its newest message, and older pages load as the user scrolls up.
/// </summary>
public sealed class HistoryTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    // The app loads 100 messages a page: this is two pages and part of a third.
    private const int Count = 230;

    // To the top of the message list (it starts at the bottom: column-reverse).
    private const string ScrollToTop = "box => { box.scrollTop = getComputedStyle(box).flexDirection === 'column-reverse' ? -box.scrollHeight : 0; }";

    [Fact]
    public async Task A_reloaded_long_chat_lists_its_last_message_and_unread_opens_at_the_newest_and_loads_older_on_scroll_up()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await alice.OpenChatAsync(b);
        for (var i = 1; i <= Count; i++)
        {
            await alice.SendAsync($"note {i}");
        }
        var item = bob.ChatItem(a);
        await Assertions.Expect(item.GetByTestId("last-message")).ToHaveTextAsync($"note {Count}", new() { Timeout = 4 * Wait.LimitMs });

        await bob.Page.ReloadAsync();
        await bob.StartedAsync();
        await Assertions.Expect(item.GetByTestId("last-message")).ToHaveTextAsync($"note {Count}");
        await Assertions.Expect(item.GetByTestId("unread")).ToHaveTextAsync($"{Count}");

        await item.ClickAsync();
        await Assertions.Expect(Text(bob, $"note {Count}")).ToBeInViewportAsync();
        await Assertions.Expect(Text(bob, "note 1")).ToHaveCountAsync(0);
        // Opening read them all, the unloaded pages too.
        await Assertions.Expect(item.GetByTestId("unread")).ToHaveCountAsync(0);
        await Assertions.Expect(alice.Message($"note {Count}").GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Read");

        var messages = bob.Page.GetByTestId("messages");
        for (var i = 0; i < 40 && await Text(bob, "note 1").CountAsync() == 0; i++)
        {
            await messages.EvaluateAsync(ScrollToTop);
            await bob.Page.WaitForTimeoutAsync(250);
        }
        await Assertions.Expect(Text(bob, "note 1")).ToBeVisibleAsync();
        await Assertions.Expect(bob.Page.GetByTestId("older-messages")).ToHaveCountAsync(0);
        await Assertions.Expect(Text(bob, "note 2")).ToHaveCountAsync(1);

        await bob.Page.ReloadAsync();
        await bob.StartedAsync();
        await Assertions.Expect(item.GetByTestId("unread")).ToHaveCountAsync(0);
        Assert.Empty(bob.Errors);
    }

    private static ILocator Text(AppPage tab, string text) =>
        tab.Page.Locator("[data-testid=chat-view] [data-testid=message] .text").Filter(new() { HasTextRegex = new Regex($"^{Regex.Escape(text)}$") });
}
