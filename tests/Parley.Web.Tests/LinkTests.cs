using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>A browser becomes a device of an account made at the CLI, by the link code it shows.</summary>
public sealed class LinkTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task The_qr_code_library_is_fetched_when_the_link_screen_draws_its_code_not_with_the_first_load()
    {
        var fetched = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var browser = await AppPage.OpenAsync(app, beforeLoad: page =>
        {
            page.Request += (_, request) => fetched.Enqueue(request.Url);
            return Task.CompletedTask;
        });
        await Assertions.Expect(browser.Page.GetByTestId("link-device-start")).ToBeVisibleAsync();
        Assert.Contains(fetched, url => url.Contains("/_framework/", StringComparison.Ordinal));
        Assert.DoesNotContain(fetched, url => url.Contains("QRCoder", StringComparison.Ordinal));

        await browser.Page.GetByTestId("link-device-start").ClickAsync();
        await Assertions.Expect(browser.Page.GetByTestId("link-qr")).ToBeVisibleAsync();
        Assert.StartsWith("data:image/png;base64,", await browser.Page.GetByTestId("link-qr").GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.Contains(fetched, url => url.Contains("QRCoder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Browser_linked_to_a_cli_account_by_code_receives_its_messages_and_its_sends_reach_the_peer_and_the_cli()
    {
        var a = Users.New("alice");
        var c = Users.New("carol");
        var aliceProfile = Path.Combine(Path.GetTempPath(), "parley-web-link-" + Guid.NewGuid().ToString("N"));
        var carolProfile = Path.Combine(Path.GetTempPath(), "parley-web-link-" + Guid.NewGuid().ToString("N"));
        try
        {
            var url = app.Server.BaseUri.ToString().TrimEnd('/');
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", a, "--profile", aliceProfile, "--json")).ExitCode);
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", c, "--profile", carolProfile, "--json")).ExitCode);
            await using var browser = await AppPage.OpenAsync(app);

            await browser.Page.GetByTestId("link-device-start").ClickAsync();
            var code = browser.Page.GetByTestId("link-code");
            await Assertions.Expect(code).ToHaveTextAsync(new Regex("^[A-Za-z0-9_-]{66}$"));
            await Assertions.Expect(browser.Page.GetByTestId("link-qr")).ToBeVisibleAsync();
            Assert.StartsWith("data:image/png;base64,", await browser.Page.GetByTestId("link-qr").GetAttributeAsync("src"), StringComparison.Ordinal);
            var approve = await Cli.RunAsync("link", "approve", (await code.TextContentAsync())!, "--yes", "--profile", aliceProfile, "--json");
            Assert.True(approve.ExitCode == 0, approve.Error);
            Assert.Equal(await browser.Page.GetByTestId("link-fingerprint").TextContentAsync(), approve.Json[0].GetProperty("fingerprint").GetString());
            await Assertions.Expect(browser.Page.GetByTestId("me")).ToHaveTextAsync(a);
            await Assertions.Expect(browser.Page.GetByTestId("connection")).ToHaveTextAsync("online");

            // A message to the account reaches the browser.
            Assert.Equal(0, (await Cli.RunAsync("send", a, "to every device of alice", "--profile", carolProfile, "--json")).ExitCode);
            await Assertions.Expect(browser.ChatItem(c).GetByTestId("last-message")).ToHaveTextAsync("to every device of alice");

            // The browser's send reaches the peer, and the CLI device of the account sees it as its own.
            await browser.ChatItem(c).ClickAsync();
            await browser.SendAsync("from alice's browser");
            await Assertions.Expect(browser.Message("from alice's browser").GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Sent");
            var carol = await Cli.RunAsync("receive", "--profile", carolProfile, "--json");
            Assert.Equal(0, carol.ExitCode);
            Assert.Contains(carol.Json, m => m.GetProperty("text").GetString() == "from alice's browser" && m.GetProperty("from").GetString() == a);
            var alice = await Cli.RunAsync("receive", "--profile", aliceProfile, "--json");
            Assert.Equal(0, alice.ExitCode);
            Assert.Contains(alice.Json, m => m.GetProperty("text").GetString() == "from alice's browser"
                && m.GetProperty("direction").GetString() == "outgoing" && m.GetProperty("to").GetString() == c);

            // The linked account is this browser's for good: a reload opens it, not the welcome screen.
            await browser.Page.ReloadAsync();
            await browser.StartedAsync();
            Assert.Equal("Chats", await browser.ScreenAsync());
            await Assertions.Expect(browser.Page.GetByTestId("me")).ToHaveTextAsync(a);
            await Assertions.Expect(browser.ChatItem(c).GetByTestId("last-message")).ToHaveTextAsync("from alice's browser");
            Assert.Empty(browser.Errors);
        }
        finally
        {
            foreach (var profile in new[] { aliceProfile, carolProfile })
            {
                if (Directory.Exists(profile))
                {
                    Directory.Delete(profile, recursive: true);
                }
            }
        }
    }
}
