using System.Runtime.InteropServices;

namespace Parley.Server.Limits;

/// <summary>
/// A token bucket per key (an account, a pair of devices, an address): a sustained rate with a
/// burst allowance, refilled lazily from the injected clock, so there is no timer per key. Buckets
/// that have refilled completely hold no information and are pruned once the table grows past
/// <see cref="PruneAbove"/>, so memory follows the number of keys active in the last few refill periods.
/// Thread-safe; one short lock per take.
/// </summary>
public sealed class TokenBuckets<TKey>(double perSecond, int burst, TimeProvider time)
    where TKey : notnull
{
    /// <summary>Table size that triggers a sweep of full buckets.</summary>
    public const int PruneAbove = 4096;

    private readonly Dictionary<TKey, Bucket> _buckets = [];
    private readonly Lock _lock = new();
    private int _pruneAt = PruneAbove;

    /// <summary>The sustained rate, in tokens per second.</summary>
    public double PerSecond => perSecond;

    /// <summary>Takes <paramref name="tokens"/> for <paramref name="key"/>; false (and nothing taken) when the bucket holds fewer. <paramref name="retryAfterMs"/> says when enough are back.</summary>
    public bool TryTake(TKey key, out uint retryAfterMs, int tokens = 1)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            if (_buckets.Count >= _pruneAt && !_buckets.ContainsKey(key))
            {
                Prune(now);
            }
            // Buckets are structs held in the table: a new key allocates nothing beyond the table's own growth.
            ref var bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_buckets, key, out bool exists);
            if (!exists)
            {
                bucket = new Bucket { Tokens = burst, Last = now };
            }
            Refill(ref bucket, now);
            if (bucket.Tokens >= tokens)
            {
                bucket.Tokens -= tokens;
                retryAfterMs = 0;
                return true;
            }
            retryAfterMs = perSecond <= 0 ? uint.MaxValue : (uint)Math.Min(uint.MaxValue, Math.Ceiling((tokens - bucket.Tokens) * 1000.0 / perSecond));
            return false;
        }
    }

    /// <summary>Whether <paramref name="key"/> has at least one token now, without taking it.</summary>
    public bool HasToken(TKey key)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            ref var bucket = ref CollectionsMarshal.GetValueRefOrNullRef(_buckets, key);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref bucket))
            {
                return burst >= 1;
            }
            Refill(ref bucket, now);
            return bucket.Tokens >= 1;
        }
    }

    private void Refill(ref Bucket bucket, long now)
    {
        bucket.Tokens = Math.Min(burst, bucket.Tokens + (time.GetElapsedTime(bucket.Last, now).TotalSeconds * perSecond));
        bucket.Last = now;
    }

    private void Prune(long now)
    {
        foreach (var (key, bucket) in _buckets)
        {
            var copy = bucket;
            Refill(ref copy, now);
            if (copy.Tokens >= burst)
            {
                _buckets.Remove(key);
            }
        }
        // Many keys busy at once: sweep again only after the table has doubled, so sweeps stay amortized O(1) per take.
        _pruneAt = Math.Max(PruneAbove, _buckets.Count * 2);
    }

    private struct Bucket
    {
        public double Tokens;
        public long Last;
    }
}
