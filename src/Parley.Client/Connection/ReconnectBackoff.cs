namespace Parley.Client.Connection;

/// <summary>
/// Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
/// [0, min(cap, base·2ⁿ)], so a crowd of clients that lost the same server does not come back in step.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan initial, TimeSpan cap, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    /// <summary>The delay before the next attempt; each call doubles the ceiling up to the cap.</summary>
    public TimeSpan Next()
    {
        var ceiling = Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;
        return TimeSpan.FromMilliseconds(_random.NextDouble() * ceiling);
    }

    /// <summary>The ceiling the next call will draw under (for tests and logs).</summary>
    public TimeSpan NextCeiling => TimeSpan.FromMilliseconds(Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30))));

    /// <summary>Starts over after a successful connection.</summary>
    public void Reset() => _attempt = 0;
}
