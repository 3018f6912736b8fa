using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>People in their own browser contexts (and at the CLI) chat through the real server.</summary>
public sealed class ChatTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Two_browsers_register_and_chat_with_ticks_turning_blue_when_read()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app, phone: true);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);

        await alice.OpenChatAsync(b);
        await alice.SendAsync("hello bob");
        var sent = alice.Message("hello bob");
        await Assertions.Expect(sent.GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Delivered");

        var chat = bob.ChatItem(a);
        await Assertions.Expect(chat.GetByTestId("last-message")).ToHaveTextAsync("hello bob");
        await Assertions.Expect(chat.GetByTestId("unread")).ToHaveTextAsync("1");
        await chat.ClickAsync();
        await Assertions.Expect(bob.Message("hello bob")).ToHaveCountAsync(1);
        await Assertions.Expect(sent.GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Read");
        await Assertions.Expect(sent.GetByTestId("ticks")).ToHaveCSSAsync("color", "rgb(26, 115, 232)");
        await Assertions.Expect(bob.Page.GetByTestId("day")).ToHaveTextAsync("Today");

        await bob.SendAsync("hi alice");
        await Assertions.Expect(alice.Message("hi alice")).ToHaveCountAsync(1);
        Assert.Empty(alice.Errors);
        Assert.Empty(bob.Errors);
    }

    [Fact]
    public async Task Typing_shows_on_the_other_side()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        // The server passes typing only between users who have a conversation.
        await alice.OpenChatAsync(b);
        await alice.SendAsync("hello");
        await bob.ChatItem(a).ClickAsync();
        await Assertions.Expect(bob.Message("hello")).ToHaveCountAsync(1);

        await alice.Page.GetByTestId("compose").PressSequentiallyAsync("are you");
        await Assertions.Expect(bob.Page.GetByTestId("typing")).ToBeVisibleAsync();
        await Assertions.Expect(bob.Page.GetByTestId("peer-status")).ToHaveTextAsync("typing…");
    }

    [Fact]
    public async Task Reload_keeps_history_and_sessions_and_shows_each_message_once()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await alice.OpenChatAsync(b);
        await alice.SendAsync("before the reload");
        await Assertions.Expect(bob.ChatItem(a).GetByTestId("last-message")).ToHaveTextAsync("before the reload");

        await bob.Page.ReloadAsync();
        await bob.StartedAsync();
        Assert.Equal("Chats", await bob.ScreenAsync());
        await Assertions.Expect(bob.Page.GetByTestId("me")).ToHaveTextAsync(b);
        await bob.ChatItem(a).ClickAsync();
        await Assertions.Expect(bob.Message("before the reload")).ToHaveCountAsync(1);

        // The Signal session survived: both directions still decrypt.
        await bob.SendAsync("after the reload");
        await Assertions.Expect(alice.Message("after the reload")).ToHaveCountAsync(1);
        await alice.SendAsync("still here");
        await Assertions.Expect(bob.Message("still here")).ToHaveCountAsync(1);
        Assert.Empty(bob.Errors);
    }

    [Fact]
    public async Task Browser_and_cli_chat_both_ways()
    {
        await using var alice = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var c = Users.New("carol");
        var profile = Path.Combine(Path.GetTempPath(), "parley-web-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            await alice.RegisterAsync(a);
            var url = app.Server.BaseUri.ToString().TrimEnd('/');
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", c, "--profile", profile, "--json")).ExitCode);

            var send = await Cli.RunAsync("send", a, "from the terminal", "--profile", profile, "--json");
            Assert.Equal(0, send.ExitCode);
            await Assertions.Expect(alice.ChatItem(c).GetByTestId("last-message")).ToHaveTextAsync("from the terminal");
            await alice.ChatItem(c).ClickAsync();
            await alice.SendAsync("from the browser");
            await Assertions.Expect(alice.Message("from the browser").GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Sent");

            var receive = await Cli.RunAsync("receive", "--profile", profile, "--json");
            Assert.Equal(0, receive.ExitCode);
            Assert.Contains(receive.Json, m => m.GetProperty("text").GetString() == "from the browser");
            await Assertions.Expect(alice.Message("from the browser").GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Delivered");
        }
        finally
        {
            if (Directory.Exists(profile))
            {
                Directory.Delete(profile, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Both_sides_see_the_same_safety_number_and_one_marks_the_other_verified()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await alice.OpenChatAsync(b);
        await bob.OpenChatAsync(a);

        await alice.Page.GetByTestId("open-safety").ClickAsync();
        await bob.Page.GetByTestId("open-safety").ClickAsync();
        var digits = alice.Page.GetByTestId("safety-digits");
        await Assertions.Expect(digits).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^(\d{5} ){11}\d{5}$"));
        await Assertions.Expect(bob.Page.GetByTestId("safety-digits")).ToHaveTextAsync(await digits.TextContentAsync() ?? "");
        await Assertions.Expect(alice.Page.Locator(".safety-panel img.qr")).ToBeVisibleAsync();

        await alice.Page.GetByTestId("mark-verified").ClickAsync();
        await Assertions.Expect(alice.Page.GetByTestId("verified")).ToBeVisibleAsync();
        await Assertions.Expect(bob.Page.GetByTestId("verified")).ToHaveCountAsync(0);
    }
}
