using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>
/// One browser tab on the app, collecting every console error and content-security-policy
/// violation so a test can assert there were none.
/// </summary>
public sealed class AppPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private AppPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add(error);
            }
        };
    }

    /// <summary>The tab.</summary>
    public IPage Page { get; }

    /// <summary>The browser context (its own storage): another person's browser.</summary>
    public IBrowserContext Context => _context;

    /// <summary>Console errors and uncaught exceptions so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>
    /// Opens the app in a fresh context and waits until it has started (past "Loading");
    /// <paramref name="beforeLoad"/> prepares the empty tab first (for example the browser's quota).
    /// </summary>
    public static async Task<AppPage> OpenAsync(WebAppFixture app, bool phone = false, Func<IPage, Task>? beforeLoad = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var context = await app.Browser.NewContextAsync(phone);
        var page = await context.NewPageAsync();
        var tab = new AppPage(context, page);
        if (beforeLoad is not null)
        {
            await beforeLoad(page);
        }
        await page.GotoAsync(app.Server.BaseUri.ToString());
        await tab.StartedAsync();
        return tab;
    }

    /// <summary>Waits until the app shows a screen other than the starting one.</summary>
    public async Task StartedAsync() =>
        await Page.Locator(".app[data-screen]:not([data-screen='Starting'])").WaitForAsync();

    /// <summary>The screen shown (the AppScreen name).</summary>
    public Task<string?> ScreenAsync() => Page.Locator(".app").GetAttributeAsync("data-screen");

    /// <summary>Registers <paramref name="user"/> through the welcome screen and waits for the chat list.</summary>
    public async Task RegisterAsync(string user)
    {
        await Page.GetByTestId("user").FillAsync(user);
        await Page.GetByTestId("register").ClickAsync();
        try
        {
            await Assertions.Expect(Page.GetByTestId("me")).ToHaveTextAsync(user);
            await Assertions.Expect(Page.GetByTestId("connection")).ToHaveTextAsync("online");
        }
        catch (PlaywrightException e)
        {
            var connection = await Page.GetByTestId("connection").GetAttributeAsync("title", new() { Timeout = 1000 }).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
            throw new PlaywrightException($"{e.Message}\nConnection problem: {connection}\nBrowser errors:\n{string.Join("\n", Errors)}", e);
        }
    }

    /// <summary>Starts (or opens) the chat with <paramref name="peer"/>.</summary>
    public async Task OpenChatAsync(string peer)
    {
        await Page.GetByTestId("new-chat").FillAsync(peer);
        await Page.GetByTestId("start-chat").ClickAsync();
        await Page.Locator($"[data-testid=chat-view][data-peer='{peer}']").WaitForAsync();
    }

    /// <summary>The chat list's entry for <paramref name="peer"/>.</summary>
    public ILocator ChatItem(string peer) => Page.Locator($"[data-testid=chat-item][data-peer='{peer}']");

    /// <summary>The shown messages whose text contains <paramref name="text"/>.</summary>
    public ILocator Message(string text) => Page.GetByTestId("message").Filter(new() { HasText = text });

    /// <summary>Types and sends <paramref name="text"/> in the open chat.</summary>
    public async Task SendAsync(string text)
    {
        await Page.GetByTestId("compose").FillAsync(text);
        await Page.GetByTestId("send").ClickAsync();
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
