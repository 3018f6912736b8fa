using System.Text.Json;
using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>
/// Notifications when the tab is closed: the app registers its service worker, and a Web Push
/// delivered to that worker (through the Chrome DevTools Protocol, as headless Chromium has no push
/// service) shows "New message" and nothing of the push's content.
/// </summary>
public sealed class PushTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task A_push_delivered_to_the_service_worker_shows_New_message_with_no_content()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await alice.Context.GrantPermissionsAsync(["notifications"], new() { Origin = app.Server.BaseUri.ToString().TrimEnd('/') });
        await alice.RegisterAsync(Users.New("alice"));
        var scope = await alice.Page.EvaluateAsync<string>("async () => (await navigator.serviceWorker.ready).scope");
        Assert.Equal(app.Server.BaseUri.ToString(), scope);

        var cdp = await alice.Context.NewCDPSessionAsync(alice.Page);
        var registration = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cdp.Event("ServiceWorker.workerRegistrationUpdated").OnEvent += (_, e) =>
        {
            foreach (var r in e?.GetProperty("registrations").EnumerateArray() ?? default)
            {
                if (r.GetProperty("scopeURL").GetString() == scope && !r.GetProperty("isDeleted").GetBoolean())
                {
                    registration.TrySetResult(r.GetProperty("registrationId").GetString()!);
                }
            }
        };
        await cdp.SendAsync("ServiceWorker.enable");
        var id = await registration.Task.WaitAsync(Wait.Limit);
        await cdp.SendAsync("ServiceWorker.deliverPushMessage", new Dictionary<string, object>
        {
            ["origin"] = app.Server.BaseUri.ToString().TrimEnd('/'),
            ["registrationId"] = id,
            ["data"] = "{\"type\":\"wake\",\"text\":\"meet at noon\"}",
        });

        var shown = await WaitForNotificationsAsync(alice.Page);
        var notification = Assert.Single(shown);
        Assert.Equal("New message", notification.GetProperty("title").GetString());
        Assert.Equal("", notification.GetProperty("body").GetString());
        Assert.DoesNotContain("noon", notification.GetRawText(), StringComparison.Ordinal);
        Assert.Empty(alice.Errors);
    }

    [Fact]
    public async Task Turning_notifications_on_where_the_browser_has_no_push_service_says_this_browser_cannot_receive_them()
    {
        // Headless Chromium has no push service: pushManager.subscribe is refused ("Registration
        // failed - permission denied") even with the notification permission granted.
        await using var alice = await AppPage.OpenAsync(app);
        await alice.Context.GrantPermissionsAsync(["notifications"], new() { Origin = app.Server.BaseUri.ToString().TrimEnd('/') });
        await alice.RegisterAsync(Users.New("alice"));
        var notifications = alice.Page.GetByTestId("notifications");
        await Assertions.Expect(notifications).ToHaveAttributeAsync("data-state", "Off");
        await alice.Page.GetByTestId("notifications-on").ClickAsync();
        await Assertions.Expect(notifications).ToHaveAttributeAsync("data-state", "Unavailable");
        await Assertions.Expect(notifications).ToHaveTextAsync("🔕 This browser cannot receive notifications");
        await Assertions.Expect(notifications).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("Registration failed"));
        Assert.Equal("Chats", await alice.ScreenAsync());
    }

    [Fact]
    public async Task Notifications_refused_by_the_user_show_as_blocked()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await alice.RegisterAsync(Users.New("alice"));
        // No permission granted: headless Chromium answers the request with "denied", as a user's refusal.
        await alice.Page.GetByTestId("notifications-on").ClickAsync();
        await Assertions.Expect(alice.Page.GetByTestId("notifications")).ToHaveAttributeAsync("data-state", "Blocked");
    }

    private static async Task<JsonElement[]> WaitForNotificationsAsync(IPage page)
    {
        var deadline = DateTime.UtcNow + Wait.Limit;
        while (true)
        {
            var json = await page.EvaluateAsync<string>(
                "async () => JSON.stringify((await (await navigator.serviceWorker.ready).getNotifications()).map(n => ({ title: n.title, body: n.body, data: n.data ?? null })))");
            var shown = JsonDocument.Parse(json).RootElement.EnumerateArray().ToArray();
            if (shown.Length > 0 || DateTime.UtcNow > deadline)
            {
                return shown;
            }
            await Task.Delay(100);
        }
    }
}
