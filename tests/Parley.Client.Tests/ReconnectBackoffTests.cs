using Parley.Client.Connection;

namespace Parley.Client.Tests;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Ceiling_doubles_per_attempt_up_to_the_cap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(1));
        var ceilings = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            ceilings.Add(backoff.NextCeiling.TotalMilliseconds);
            backoff.Next();
        }
        Assert.Equal([100, 200, 400, 800, 1000, 1000], ceilings);
    }

    [Fact]
    public void Every_delay_lies_between_zero_and_its_ceiling()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(7));
        for (var i = 0; i < 200; i++)
        {
            var ceiling = backoff.NextCeiling;
            var delay = backoff.Next();
            Assert.InRange(delay, TimeSpan.Zero, ceiling);
        }
    }

    [Fact]
    public void Reset_starts_over_from_the_initial_ceiling()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(3));
        backoff.Next();
        backoff.Next();
        backoff.Reset();
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.NextCeiling);
    }

    [Fact]
    public void Delays_are_jittered_not_fixed()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), new Random(5));
        var delays = Enumerable.Range(0, 20).Select(_ => backoff.Next()).Distinct().Count();
        Assert.True(delays > 10);
    }
}
