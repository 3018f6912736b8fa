namespace Parley.Server.Tests;

/// <summary>Polls a condition that becomes true asynchronously (never a fixed sleep).</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
