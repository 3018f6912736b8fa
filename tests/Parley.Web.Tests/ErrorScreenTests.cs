using Microsoft.Playwright;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Web.Tests;

/// <summary>What goes wrong shows its own clear screen or warning: a peer's new identity, a session the server no longer accepts, full storage.</summary>
public sealed class ErrorScreenTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task A_peer_publishing_a_new_identity_shows_the_identity_change_warning_until_accepted()
    {
        await using var alice = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        var bobIdentity = IdentityKeyPair.Generate();
        await using var bob = await RawDevice.RegisterAsync(app.Server.BaseUri, b);
        await bob.UploadKeysAsync(bobIdentity);
        await alice.OpenChatAsync(b);
        await alice.SendAsync("before");
        await Assertions.Expect(alice.Message("before").GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Sent");
        await Assertions.Expect(alice.Page.GetByTestId("identity-warning")).ToHaveCountAsync(0);

        // bob re-registers: a new account key signs a list that names a new device with a new identity.
        await using var reinstalled = await RawDevice.LinkAsync(app.Server.BaseUri, b, bob.Credentials.DeviceId, bob.Credentials.Password);
        var newIdentity = IdentityKeyPair.Generate();
        await reinstalled.UploadKeysOnlyAsync(newIdentity);
        var published = await reinstalled.PublishListAsync(IdentityKeyPair.Generate(), 2,
            (bob.Credentials.DeviceId, bobIdentity.IdentityKey), (reinstalled.Credentials.DeviceId, newIdentity.IdentityKey));
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, published.BodyCase);

        await alice.SendAsync("after");
        var warning = alice.Page.GetByTestId("identity-warning");
        await Assertions.Expect(warning).ToBeVisibleAsync();
        await Assertions.Expect(warning).ToContainTextAsync($"{b}'s security key changed");
        await warning.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();
        await Assertions.Expect(warning).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_browser_device_removed_at_the_cli_shows_the_signed_out_screen()
    {
        var a = Users.New("alice");
        var profile = Path.Combine(Path.GetTempPath(), "parley-web-removed-" + Guid.NewGuid().ToString("N"));
        try
        {
            var url = app.Server.BaseUri.ToString().TrimEnd('/');
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", a, "--profile", profile, "--json")).ExitCode);
            await using var browser = await AppPage.OpenAsync(app);
            await browser.Page.GetByTestId("link-device-start").ClickAsync();
            var code = browser.Page.GetByTestId("link-code");
            await Assertions.Expect(code).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[A-Za-z0-9_-]{66}$"));
            var approve = await Cli.RunAsync("link", "approve", (await code.TextContentAsync())!, "--yes", "--profile", profile, "--json");
            Assert.True(approve.ExitCode == 0, approve.Error);
            await Assertions.Expect(browser.Page.GetByTestId("connection")).ToHaveTextAsync("online");

            var devices = await Cli.RunAsync("devices", "--profile", profile, "--json");
            var id = devices.Json.Single(d => !d.GetProperty("this_device").GetBoolean()).GetProperty("id").GetUInt32();
            var removed = await Cli.RunAsync("devices", "remove", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--profile", profile, "--json");
            Assert.True(removed.ExitCode == 0, removed.Error);

            var screen = browser.Page.GetByTestId("error-screen");
            await Assertions.Expect(screen).ToHaveAttributeAsync("data-error", "SessionExpired");
            await Assertions.Expect(screen.GetByRole(AriaRole.Heading)).ToHaveTextAsync("This browser was signed out");
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
    public async Task A_server_that_no_longer_knows_this_browser_shows_the_signed_out_screen()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await alice.RegisterAsync(Users.New("alice"));

        // The server forgets every account (its data was reset): this browser's credentials are refused.
        await app.Server.ForgetEverythingAsync();
        var screen = alice.Page.GetByTestId("error-screen");
        await Assertions.Expect(screen).ToHaveAttributeAsync("data-error", "SessionExpired");
        await Assertions.Expect(screen.GetByRole(AriaRole.Heading)).ToHaveTextAsync("This browser was signed out");

        // A reload opens the same stored credentials and lands on the same screen, not in a broken chat list.
        await alice.Page.ReloadAsync();
        await alice.StartedAsync();
        await Assertions.Expect(alice.Page.GetByTestId("error-screen")).ToHaveAttributeAsync("data-error", "SessionExpired");
    }

    [Fact]
    public async Task A_browser_out_of_storage_shows_the_storage_full_screen_instead_of_registering()
    {
        // Chromium's own quota for the site, shrunk to one byte before the app stores anything:
        // IndexedDB refuses the writes (QuotaExceededError), as in a browser whose disk is full.
        await using var alice = await AppPage.OpenAsync(app, beforeLoad: async page =>
        {
            var cdp = await page.Context.NewCDPSessionAsync(page);
            await cdp.SendAsync("Storage.overrideQuotaForOrigin", new Dictionary<string, object>
            {
                ["origin"] = app.Server.BaseUri.ToString().TrimEnd('/'),
                ["quotaSize"] = 1,
            });
        });
        // Opening the empty database may already be refused; if not, registering (which must store the keys) is.
        if (await alice.ScreenAsync() == "Welcome")
        {
            await alice.Page.GetByTestId("user").FillAsync(Users.New("alice"));
            await alice.Page.GetByTestId("register").ClickAsync();
        }
        var screen = alice.Page.GetByTestId("error-screen");
        await Assertions.Expect(screen).ToHaveAttributeAsync("data-error", "StorageFull");
        await Assertions.Expect(screen.GetByRole(AriaRole.Heading)).ToHaveTextAsync("This browser's storage is full or unavailable");
    }
}
