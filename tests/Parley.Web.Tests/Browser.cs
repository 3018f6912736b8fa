using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright. Never downloads a browser: when
/// /usr/bin/chromium is missing the test fails (`.ci/run` installs it with apt).
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    /// <summary>Where Debian installs Chromium; PARLEY_CHROMIUM overrides it.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        Chromium = chromium;
    }

    /// <summary>The launched browser.</summary>
    public IBrowser Chromium { get; }

    /// <summary>Launches Chromium; fails (never skips) when it is not installed.</summary>
    public static async Task<Browser> LaunchAsync()
    {
        Assert.True(File.Exists(ExecutablePath), $"Chromium is not installed at {ExecutablePath} (apt-get install chromium; .ci/run does it).");
        Assertions.SetDefaultExpectTimeout(Wait.LimitMs);
        var playwright = await Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Arguments,
            Timeout = Wait.LimitMs,
        });
        return new Browser(playwright, chromium);
    }

    /// <summary>A fresh context (its own storage, as another person's browser) at a desktop or phone width.</summary>
    public async Task<IBrowserContext> NewContextAsync(bool phone = false)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(Wait.LimitMs);
        return context;
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.CloseAsync();
        _playwright.Dispose();
    }
}
