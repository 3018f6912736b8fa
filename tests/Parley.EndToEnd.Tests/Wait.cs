using Parley.Client;

namespace Parley.EndToEnd.Tests;

/// <summary>Waiting for asynchronous outcomes; the limits only keep a broken build from hanging, they assert nothing about speed.</summary>
public static class Wait
{
    /// <summary>How long any single expected event may take before the test is declared hung.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Client options for tests: quick reconnects so restarts do not idle.</summary>
    public static ParleyClientOptions Options() => new()
    {
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };

    /// <summary>A token that cancels after <see cref="Limit"/>.</summary>
    public static CancellationToken Token() => new CancellationTokenSource(Limit).Token;

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test when it never does.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }
            await Task.Delay(20);
        }
    }
}
