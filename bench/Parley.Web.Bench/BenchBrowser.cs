using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Parley.Web.Bench;

/// <summary>Debian's Chromium (/usr/bin/chromium), headless, with an empty cache per context.</summary>
public sealed class BenchBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BenchBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>The browser's version.</summary>
    public string Version => _browser.Version;

    /// <summary>Launches Chromium with the same arguments as the browser tests.</summary>
    public static async Task<BenchBrowser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium",
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new BenchBrowser(playwright, browser);
    }

    /// <summary>A page in a fresh context (its own IndexedDB and cache).</summary>
    public async Task<IPage> NewPageAsync() => await (await _browser.NewContextAsync()).NewPageAsync();

    /// <summary>Loads the app in a fresh context (empty cache) and counts the bytes the network delivered.</summary>
    public async Task<ColdLoad> ColdLoadAsync(Uri server)
    {
        var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var cdp = await context.NewCDPSessionAsync(page);
        long bytes = 0;
        var requests = 0;
        cdp.Event("Network.loadingFinished").OnEvent += (_, e) =>
        {
            if (e is { } json && json.TryGetProperty("encodedDataLength", out var length))
            {
                Interlocked.Add(ref bytes, (long)length.GetDouble());
                Interlocked.Increment(ref requests);
            }
        };
        await cdp.SendAsync("Network.enable");
        await cdp.SendAsync("Network.setCacheDisabled", new Dictionary<string, object> { ["cacheDisabled"] = true });
        var clock = Stopwatch.StartNew();
        await page.GotoAsync(server.ToString());
        await page.GetByTestId("user").FillAsync("x", new() { Timeout = 60_000 });
        var interactive = clock.Elapsed;
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByTestId("user").FillAsync("");
        return new ColdLoad(page, Interlocked.Read(ref bytes), requests, interactive);
    }

    /// <summary>Reloads <paramref name="page"/>; the time until <paramref name="selector"/> is in the page.</summary>
    public static async Task<TimeSpan> ReloadAsync(IPage page, string selector)
    {
        ArgumentNullException.ThrowIfNull(page);
        var clock = Stopwatch.StartNew();
        await page.ReloadAsync();
        await page.Locator(selector).WaitForAsync(new() { Timeout = 120_000 });
        return clock.Elapsed;
    }

    /// <summary>Runs the app's crypto probe; mean milliseconds per encrypt + decrypt.</summary>
    public static async Task<double> MeasureCryptoAsync(IPage page, int count) =>
        await page.EvaluateAsync<double>("n => DotNet.invokeMethodAsync('Parley.Web', 'MeasureMessageCrypto', n)", count);

    /// <summary>Registers through the welcome screen; the time from the click until the app is online, or null on failure.</summary>
    public static async Task<TimeSpan?> RegisterAsync(IPage page, string user)
    {
        await page.GetByTestId("user").FillAsync(user);
        var clock = Stopwatch.StartNew();
        await page.GetByTestId("register").ClickAsync();
        try
        {
            await page.Locator("[data-testid=connection]:text-is('online'), [data-testid=error-screen], #blazor-error-ui:visible")
                .First.WaitForAsync(new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            return null;
        }
        return await page.GetByTestId("connection").IsVisibleAsync() ? clock.Elapsed : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}
