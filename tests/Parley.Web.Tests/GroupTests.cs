using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>Groups in the browser, with another browser and a CLI user as members.</summary>
public sealed class GroupTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Browser_creates_a_group_with_a_cli_user_and_a_second_browser_and_messages_flow_all_ways_with_group_ticks()
    {
        var a = Users.New("alice");
        var b = Users.New("bob");
        var c = Users.New("carol");
        var carolProfile = NewProfile();
        try
        {
            await using var alice = await AppPage.OpenAsync(app);
            await using var bob = await AppPage.OpenAsync(app);
            await alice.RegisterAsync(a);
            await bob.RegisterAsync(b);
            await RegisterCliAsync(c, carolProfile);

            await CreateGroupAsync(alice, "Weekend plans", $"{b}, {c}");
            await alice.SendAsync("hello group");
            var first = alice.Message("hello group").GetByTestId("ticks");
            await Assertions.Expect(first).ToHaveAttributeAsync("data-status", "Sent");

            // The second browser gets the group (title included, end-to-end) and the message.
            var bobsGroup = GroupItem(bob, "Weekend plans");
            await Assertions.Expect(bobsGroup.GetByTestId("last-message")).ToHaveTextAsync("hello group");
            // The CLI member too; once both member devices have it, the sender sees ✓✓.
            var carolGot = await Cli.RunAsync("receive", "--profile", carolProfile, "--json");
            Assert.Equal(0, carolGot.ExitCode);
            var atCarol = Assert.Single(carolGot.Json, m => m.GetProperty("text").GetString() == "hello group");
            Assert.Equal((a, "Weekend plans"), (atCarol.GetProperty("from").GetString(), atCarol.GetProperty("group").GetString()));
            var groupId = atCarol.GetProperty("group_id").GetString()!;
            await Assertions.Expect(first).ToHaveAttributeAsync("data-status", "Delivered");
            await Assertions.Expect(first).ToHaveTextAsync("✓✓");

            // Blue only once every member read it: the second browser opens the group, then the CLI reads.
            await bobsGroup.ClickAsync();
            await Assertions.Expect(bob.Message("hello group").GetByTestId("sender")).ToHaveTextAsync(a);
            Assert.Equal(0, (await Cli.RunAsync("read", atCarol.GetProperty("id").GetString()!, "--profile", carolProfile, "--json")).ExitCode);
            await Assertions.Expect(first).ToHaveAttributeAsync("data-status", "Read");
            await Assertions.Expect(first).ToHaveCSSAsync("color", "rgb(26, 115, 232)");
            await Assertions.Expect(alice.Message("hello group").GetByTestId("message-meta")).ToHaveAttributeAsync("title", string.Join(" · ", new[] { $"{b}: Read", $"{c}: Read" }.Order(StringComparer.Ordinal)));

            // The other members write: each browser shows who wrote what.
            await bob.SendAsync("hi from bob");
            await Assertions.Expect(alice.Message("hi from bob").GetByTestId("sender")).ToHaveTextAsync(b);
            Assert.Equal(0, (await Cli.RunAsync("send", "--group", groupId, "hi from carol", "--profile", carolProfile, "--json")).ExitCode);
            await Assertions.Expect(alice.Message("hi from carol").GetByTestId("sender")).ToHaveTextAsync(c);
            await Assertions.Expect(bob.Message("hi from carol").GetByTestId("sender")).ToHaveTextAsync(c);
            var carolLater = await Cli.RunAsync("receive", "--profile", carolProfile, "--json");
            Assert.Contains(carolLater.Json, m => m.GetProperty("text").GetString() == "hi from bob" && m.GetProperty("from").GetString() == b);
            await Assertions.Expect(alice.Message("hi from bob")).ToHaveCountAsync(1);

            // A reload keeps the group: title, members and messages, each once.
            await bob.Page.ReloadAsync();
            await bob.StartedAsync();
            await GroupItem(bob, "Weekend plans").ClickAsync();
            await Assertions.Expect(bob.Page.GetByTestId("peer-status")).ToHaveTextAsync("3 members");
            await Assertions.Expect(bob.Message("hello group")).ToHaveCountAsync(1);
            await Assertions.Expect(bob.Message("hi from carol").GetByTestId("sender")).ToHaveTextAsync(c);
            Assert.Empty(alice.Errors);
            Assert.Empty(bob.Errors);
        }
        finally
        {
            DeleteProfile(carolProfile);
        }
    }

    [Fact]
    public async Task Admin_adds_and_removes_members_in_the_members_panel_and_a_plain_member_sees_the_list_without_controls()
    {
        var a = Users.New("alice");
        var b = Users.New("bob");
        var c = Users.New("carol");
        var carolProfile = NewProfile();
        try
        {
            await using var alice = await AppPage.OpenAsync(app);
            await using var bob = await AppPage.OpenAsync(app);
            await alice.RegisterAsync(a);
            await bob.RegisterAsync(b);
            await RegisterCliAsync(c, carolProfile);
            // A title that would read backwards is refused before anything is sent.
            await alice.Page.GetByTestId("new-group").ClickAsync();
            await alice.Page.GetByTestId("group-title").FillAsync("\u202Ebulc kooB");
            await alice.Page.GetByTestId("group-members").FillAsync(b);
            await alice.Page.GetByTestId("create-group").ClickAsync();
            await Assertions.Expect(alice.Page.GetByTestId("group-error")).ToContainTextAsync("characters that change text direction");
            await alice.Page.GetByTestId("new-group-form").GetByText("Cancel").ClickAsync();
            // A title that starts with an emoji: the avatar shows the whole emoji, not half of it.
            await CreateGroupAsync(alice, "📚 Book club", b);
            await alice.SendAsync("welcome");
            await Assertions.Expect(GroupItem(alice, "📚 Book club").Locator(".avatar")).ToHaveTextAsync("📚");

            await alice.Page.GetByTestId("open-members").ClickAsync();
            var aliceMembers = alice.Page.GetByTestId("member");
            await Assertions.Expect(aliceMembers).ToHaveCountAsync(2);
            await Assertions.Expect(aliceMembers.Filter(new() { HasText = a }).GetByTestId("admin")).ToHaveCountAsync(1);
            await alice.Page.GetByTestId("add-member-name").FillAsync(c);
            await alice.Page.GetByTestId("add-member").ClickAsync();
            await Assertions.Expect(aliceMembers).ToHaveCountAsync(3);

            await GroupItem(bob, "📚 Book club").ClickAsync();
            await bob.Page.GetByTestId("open-members").ClickAsync();
            await Assertions.Expect(bob.Page.GetByTestId("member")).ToHaveCountAsync(3);
            await Assertions.Expect(bob.Page.GetByTestId("remove-member")).ToHaveCountAsync(0);
            await Assertions.Expect(bob.Page.GetByTestId("add-member")).ToHaveCountAsync(0);

            await aliceMembers.Filter(new() { HasText = c }).GetByTestId("remove-member").ClickAsync();
            await Assertions.Expect(aliceMembers).ToHaveCountAsync(2);
            await Assertions.Expect(bob.Page.GetByTestId("member")).ToHaveCountAsync(2);
            await Assertions.Expect(bob.Page.GetByTestId("member").Filter(new() { HasText = c })).ToHaveCountAsync(0);

            // What is sent after the removal reaches the members left, not the removed one.
            await alice.SendAsync("after the removal");
            await Assertions.Expect(bob.Message("after the removal")).ToHaveCountAsync(1);
            var carol = await Cli.RunAsync("receive", "--profile", carolProfile, "--json");
            Assert.Equal(0, carol.ExitCode);
            Assert.DoesNotContain(carol.Json, m => m.TryGetProperty("text", out var text) && text.GetString() == "after the removal");
            Assert.Empty(alice.Errors);
            Assert.Empty(bob.Errors);
        }
        finally
        {
            DeleteProfile(carolProfile);
        }
    }

    [Fact]
    public async Task Admin_promotes_a_member_who_then_has_the_admin_controls_and_demotes_them_again()
    {
        var a = Users.New("alice");
        var b = Users.New("bob");
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await CreateGroupAsync(alice, "Committee", b);
        await alice.SendAsync("agenda");
        await GroupItem(bob, "Committee").ClickAsync();
        await bob.Page.GetByTestId("open-members").ClickAsync();
        var bobAtBob = bob.Page.GetByTestId("member").Filter(new() { HasText = b });
        await Assertions.Expect(bobAtBob.GetByTestId("admin")).ToHaveCountAsync(0);
        await Assertions.Expect(bob.Page.GetByTestId("promote-member")).ToHaveCountAsync(0);

        await alice.Page.GetByTestId("open-members").ClickAsync();
        var bobAtAlice = alice.Page.GetByTestId("member").Filter(new() { HasText = b });
        await bobAtAlice.GetByTestId("promote-member").ClickAsync();
        await Assertions.Expect(bobAtAlice.GetByTestId("admin")).ToHaveCountAsync(1);
        await Assertions.Expect(bobAtAlice.GetByTestId("demote-member")).ToHaveCountAsync(1);
        // The new admin's browser learns it from the server and shows the controls.
        await Assertions.Expect(bobAtBob.GetByTestId("admin")).ToHaveCountAsync(1);
        await Assertions.Expect(bob.Page.GetByTestId("add-member")).ToHaveCountAsync(1);
        await Assertions.Expect(bob.Page.GetByTestId("member").Filter(new() { HasText = a }).GetByTestId("demote-member")).ToHaveCountAsync(1);

        await bobAtAlice.GetByTestId("demote-member").ClickAsync();
        await Assertions.Expect(bobAtAlice.GetByTestId("admin")).ToHaveCountAsync(0);
        await Assertions.Expect(bobAtBob.GetByTestId("admin")).ToHaveCountAsync(0);
        await Assertions.Expect(bob.Page.GetByTestId("add-member")).ToHaveCountAsync(0);
        await Assertions.Expect(bob.Page.GetByTestId("demote-member")).ToHaveCountAsync(0);
        Assert.Empty(alice.Errors);
        Assert.Empty(bob.Errors);
    }

    [Fact]
    public async Task Typing_in_a_group_shows_who_types_to_the_other_members()
    {
        var a = Users.New("alice");
        var b = Users.New("bob");
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await CreateGroupAsync(alice, "Choir", b);
        await alice.SendAsync("rehearsal at eight");
        await GroupItem(bob, "Choir").ClickAsync();
        await Assertions.Expect(bob.Message("rehearsal at eight")).ToHaveCountAsync(1);

        await bob.Page.GetByTestId("compose").PressSequentiallyAsync("see you");
        await Assertions.Expect(alice.Page.GetByTestId("typing")).ToHaveTextAsync($"{b} is typing…");
        await Assertions.Expect(alice.Page.GetByTestId("peer-status")).ToHaveTextAsync($"{b} typing…");
        Assert.Empty(alice.Errors);
    }

    internal static ILocator GroupItem(AppPage page, string title) =>
        page.Page.GetByTestId("chat-item").Filter(new() { Has = page.Page.GetByTestId("chat-title").GetByText(title, new() { Exact = true }) });

    internal static async Task CreateGroupAsync(AppPage page, string title, string members)
    {
        await page.Page.GetByTestId("new-group").ClickAsync();
        await page.Page.GetByTestId("group-title").FillAsync(title);
        await page.Page.GetByTestId("group-members").FillAsync(members);
        await page.Page.GetByTestId("create-group").ClickAsync();
        await Assertions.Expect(page.Page.GetByTestId("chat-view-title")).ToHaveTextAsync(title);
        await Assertions.Expect(GroupItem(page, title)).ToHaveCountAsync(1);
    }

    private Task RegisterCliAsync(string user, string profile) => RegisterCliAsync(app, user, profile);

    internal static async Task RegisterCliAsync(WebAppFixture app, string user, string profile)
    {
        var url = app.Server.BaseUri.ToString().TrimEnd('/');
        var run = await Cli.RunAsync("register", "--server", url, "--user", user, "--profile", profile, "--json");
        Assert.True(run.ExitCode == 0, run.Error);
    }

    internal static string NewProfile() => Path.Combine(Path.GetTempPath(), "parley-web-group-" + Guid.NewGuid().ToString("N"));

    internal static void DeleteProfile(string profile)
    {
        if (Directory.Exists(profile))
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
