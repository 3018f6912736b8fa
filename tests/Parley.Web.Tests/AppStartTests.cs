using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>The app starts in Chromium under the server's content security policy.</summary>
public sealed class AppStartTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task First_visit_shows_registration_without_console_errors_under_the_content_security_policy()
    {
        await using var tab = await AppPage.OpenAsync(app);
        Assert.Equal("Welcome", await tab.ScreenAsync());
        await Assertions.Expect(tab.Page.GetByTestId("register")).ToBeVisibleAsync();
        Assert.Empty(tab.Errors);
    }

    [Fact]
    public async Task Phone_width_shows_the_registration_form_whole()
    {
        await using var tab = await AppPage.OpenAsync(app, phone: true);
        var box = await tab.Page.GetByTestId("register-form").BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.X >= 0 && box.X + box.Width <= 390, $"the form fits a 390 px wide screen (x {box.X}, width {box.Width})");
    }
}
