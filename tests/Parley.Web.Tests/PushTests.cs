using System.Text.Json;
using Microsoft.Playwright;
using Parley.Protocol;

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
        // A push delivered through DevTools was once lost on a loaded CI machine (no notification in
        // 60 s); deliver again until one shows. The notification's tag makes repeats replace it, so
        // "exactly one, with no content" is still what is asserted.
        var shown = Array.Empty<JsonElement>();
        for (var attempt = 0; attempt < 6 && shown.Length == 0; attempt++)
        {
            await cdp.SendAsync("ServiceWorker.deliverPushMessage", new Dictionary<string, object>
            {
                ["origin"] = app.Server.BaseUri.ToString().TrimEnd('/'),
                ["registrationId"] = id,
                ["data"] = "{\"type\":\"wake\",\"text\":\"meet at noon\"}",
            });
            shown = await WaitForNotificationsAsync(alice.Page, TimeSpan.FromSeconds(10));
        }

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
    public async Task Turning_notifications_on_stores_the_browsers_subscription_with_the_server()
    {
        // Headless Chromium has no push service, so this page's PushManager.subscribe stands in for
        // one: it answers as Chrome's would, with an https endpoint and a fresh P-256 key and auth
        // secret. Everything after it is real: the app, the SDK, and the server, which checks the
        // endpoint and that the key is a point on the curve before it answers Ok.
        await using var alice = await AppPage.OpenAsync(app, beforeLoad: page => page.AddInitScriptAsync("""
            PushManager.prototype.subscribe = async function (options) {
              if (!(options.applicationServerKey instanceof Uint8Array) || options.applicationServerKey.length !== 65) { throw new Error('no VAPID key'); }
              const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
              const b64 = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
              const keys = { p256dh: b64(await crypto.subtle.exportKey('raw', pair.publicKey)), auth: b64(crypto.getRandomValues(new Uint8Array(16))) };
              return { toJSON: () => ({ endpoint: 'https://push.example.test/send/' + keys.auth, keys }) };
            };
            """));
        await alice.Context.GrantPermissionsAsync(["notifications"], new() { Origin = app.Server.BaseUri.ToString().TrimEnd('/') });
        await alice.RegisterAsync(Users.New("alice"));
        await alice.Page.GetByTestId("notifications-on").ClickAsync();
        var notifications = alice.Page.GetByTestId("notifications");
        await Assertions.Expect(notifications).ToHaveAttributeAsync("data-state", "On");
        await Assertions.Expect(notifications).ToHaveTextAsync("🔔 Notifications on");

        // The server holds it for this browser's device: asked with the device's own credentials (from its IndexedDB store).
        var credentials = JsonSerializer.Deserialize<string[]>(await alice.Page.EvaluateAsync<string>(ReadCredentials))!;
        await using var device = await RawDevice.ConnectAsync(app.Server.BaseUri, new DeviceCredentials(credentials[0], uint.Parse(credentials[1], System.Globalization.CultureInfo.InvariantCulture), credentials[2]));
        var held = await device.RequestAsync(new ClientFrame { GetPush = new GetPushSubscription() });
        Assert.StartsWith("https://push.example.test/send/", held.PushSubscription.Webpush.Endpoint, StringComparison.Ordinal);
        Assert.Equal(65, held.PushSubscription.Webpush.P256Dh.Length);
    }

    // The device credentials the app keeps in IndexedDB (parley-store.js: ["config", key] → UTF-8 JSON).
    private const string ReadCredentials = """
        async () => {
          const db = await new Promise((resolve, reject) => { const r = indexedDB.open('parley'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
          const get = key => new Promise((resolve, reject) => {
            const r = db.transaction('records').objectStore('records').get(['config', key]);
            r.onsuccess = () => { const text = new TextDecoder().decode(r.result); resolve(text.startsWith('"') ? JSON.parse(text) : text); };
            r.onerror = () => reject(r.error);
          });
          const values = [await get('user'), await get('device_id'), await get('password')];
          db.close();
          return JSON.stringify(values);
        }
        """;

    [Fact]
    public async Task Notifications_refused_by_the_user_show_as_blocked()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await alice.RegisterAsync(Users.New("alice"));
        // No permission granted: headless Chromium answers the request with "denied", as a user's refusal.
        await alice.Page.GetByTestId("notifications-on").ClickAsync();
        await Assertions.Expect(alice.Page.GetByTestId("notifications")).ToHaveAttributeAsync("data-state", "Blocked");
    }

    private static async Task<JsonElement[]> WaitForNotificationsAsync(IPage page, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
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
