namespace Parley.Server.Gateway;

/// <summary>A token bucket per connection: a sustained rate with a burst allowance. Used from the receive loop only.</summary>
public sealed class FrameRateLimiter(int perSecond, int burst, TimeProvider time)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    /// <summary>Takes one token; false when the bucket is empty. <paramref name="retryAfterMs"/> says when one is back.</summary>
    public bool TryTake(out uint retryAfterMs)
    {
        long now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * perSecond));
        _last = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfterMs = 0;
            return true;
        }
        retryAfterMs = (uint)Math.Ceiling((1 - _tokens) * 1000.0 / perSecond);
        return false;
    }
}
