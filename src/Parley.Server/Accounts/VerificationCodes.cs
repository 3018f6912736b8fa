using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Parley.Server.Accounts;

/// <summary>Pending 6-digit registration codes, in memory (a restart just means asking again); each is single use with a few tries.</summary>
public sealed class VerificationCodes(TimeProvider time)
{
    private const int MaxAttempts = 5;

    /// <summary>Past this many pending codes, each new one first forgets the expired (a code never redeemed would otherwise stay for good).</summary>
    private const int SweepAbove = 1024;

    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>Codes issued and neither redeemed, used up nor forgotten after expiring.</summary>
    public int PendingCount => _pending.Count;

    public string Issue(string user, TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        if (_pending.Count >= SweepAbove)
        {
            foreach (var (name, pending) in _pending)
            {
                if (pending.Expires < now)
                {
                    _pending.TryRemove(new KeyValuePair<string, Pending>(name, pending));
                }
            }
        }
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
        _pending[user] = new Pending(code, now + lifetime);
        return code;
    }

    /// <summary>True once for the right code before it expires; wrong guesses use up the code.</summary>
    public bool Redeem(string user, string code)
    {
        if (!_pending.TryGetValue(user, out var pending))
        {
            return false;
        }
        if (pending.Expires < time.GetUtcNow() || Interlocked.Increment(ref pending.Attempts) > MaxAttempts)
        {
            _pending.TryRemove(user, out _);
            return false;
        }
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(pending.Code), System.Text.Encoding.ASCII.GetBytes(code)))
        {
            return false;
        }
        return _pending.TryRemove(new KeyValuePair<string, Pending>(user, pending));
    }

    private sealed class Pending(string code, DateTimeOffset expires)
    {
        public string Code { get; } = code;
        public DateTimeOffset Expires { get; } = expires;
        public int Attempts;
    }
}
