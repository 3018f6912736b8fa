namespace Parley.Web.Tests;

/// <summary>One server process and one Chromium shared by the tests of a class; each test opens its own contexts.</summary>
public sealed class WebAppFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "parley-web-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;
    private Browser? _browser;

    /// <summary>The running server, which serves the app at /.</summary>
    public ServerProcess Server => _server ?? throw new InvalidOperationException("Not started.");

    /// <summary>The launched browser.</summary>
    public Browser Browser => _browser ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_dataDir);
        _browser = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
