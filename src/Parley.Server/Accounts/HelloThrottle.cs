using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;
using Parley.Server.Limits;

namespace Parley.Server.Accounts;

/// <summary>
/// Failed Hellos, per remote address and per account: after a number of free failures each
/// further one doubles a back-off during which Hellos from that address (or for that account) are
/// refused before the password is even checked. Failures are forgotten after a quiet window. Logged
/// as one summary line per period, never per attempt, so a script cannot fill the log.
/// IPv6 addresses count per /64, the block one subscriber usually gets.
/// </summary>
public sealed partial class HelloThrottle(IOptions<ParleyOptions> options, AccountDirectory directory, TimeProvider time, ILogger<HelloThrottle> logger)
    : BackgroundService
{
    /// <summary>Most addresses (and accounts) tracked at once; past it, after pruning, new ones are not tracked (the other limit still holds).</summary>
    public const int MaxTracked = 100_000;

    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Strikes> _byAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Strikes> _byAccount = [];
    private readonly HashSet<string> _periodAddresses = new(StringComparer.Ordinal);
    private readonly HashSet<long> _periodAccounts = [];
    private int _periodFailed;
    private int _periodRefused;

    /// <summary>
    /// How long a Hello from <paramref name="remote"/> for <paramref name="user"/> must wait, in
    /// milliseconds, or null when it may be checked now. A refusal is counted for the summary.
    /// </summary>
    public uint? RetryAfterMs(string remote, string user)
    {
        long now = time.GetTimestamp();
        var address = AddressOf(remote);
        var account = directory.Find(user);
        lock (_lock)
        {
            var wait = Math.Max(Remaining(_byAddress.GetValueOrDefault(address), now),
                account is null ? 0 : Remaining(_byAccount.GetValueOrDefault(account.Id), now));
            if (wait <= 0)
            {
                return null;
            }
            _periodRefused++;
            Note(address, account);
            return (uint)Math.Min(uint.MaxValue, Math.Ceiling(wait));
        }
    }

    /// <summary>Counts a Hello that failed (wrong credentials) against the address and, when it exists, the account.</summary>
    public void Failed(string remote, string user)
    {
        long now = time.GetTimestamp();
        var address = AddressOf(remote);
        var account = directory.Find(user);
        lock (_lock)
        {
            _periodFailed++;
            Note(address, account);
            Strike(_byAddress, address, now, _limits.FailedHellosPerAddress, _limits.HelloBackoffMaxSecondsPerAddress);
            if (account is not null)
            {
                Strike(_byAccount, account.Id, now, _limits.FailedHellosPerAccount, _limits.HelloBackoffMaxSecondsPerAccount);
            }
        }
    }

    /// <summary>
    /// The account's own device got in: its failures are forgotten. The address's are not, or a
    /// script holding one valid device could reset its back-off between guesses.
    /// </summary>
    public void Succeeded(Account account)
    {
        lock (_lock)
        {
            _byAccount.Remove(account.Id);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, _limits.FailedHelloLogIntervalSeconds));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Summarize(period);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Summarize(TimeSpan.FromSeconds(_limits.FailedHelloLogIntervalSeconds));
    }

    /// <summary>The address part of "ip:port" (IPv6 cut to its /64); the whole string when it is not an endpoint.</summary>
    internal static string AddressOf(string remote)
    {
        if (!IPEndPoint.TryParse(remote, out var endpoint))
        {
            return remote;
        }
        return ClientNetwork.KeyOf(endpoint.Address);
    }

    private void Summarize(TimeSpan period)
    {
        int failed, refused, addresses, accounts;
        lock (_lock)
        {
            (failed, refused, addresses, accounts) = (_periodFailed, _periodRefused, _periodAddresses.Count, _periodAccounts.Count);
            _periodFailed = _periodRefused = 0;
            _periodAddresses.Clear();
            _periodAccounts.Clear();
            Prune(time.GetTimestamp());
        }
        if (failed + refused > 0)
        {
            LogSummary(logger, failed, refused, (int)period.TotalSeconds, addresses, accounts);
        }
    }

    private void Note(string address, Account? account)
    {
        if (_periodAddresses.Count < MaxTracked)
        {
            _periodAddresses.Add(address);
        }
        if (account is not null && _periodAccounts.Count < MaxTracked)
        {
            _periodAccounts.Add(account.Id);
        }
    }

    private double Remaining(Strikes? strikes, long now) =>
        strikes is null || strikes.BlockedUntil <= now ? 0 : time.GetElapsedTime(now, strikes.BlockedUntil).TotalMilliseconds;

    private void Strike<TKey>(Dictionary<TKey, Strikes> table, TKey key, long now, int free, int maxSeconds)
        where TKey : notnull
    {
        if (!table.TryGetValue(key, out var strikes))
        {
            if (table.Count >= MaxTracked)
            {
                Prune(now);
                if (table.Count >= MaxTracked)
                {
                    return;
                }
            }
            table[key] = strikes = new Strikes();
        }
        if (strikes.Failures > 0 && time.GetElapsedTime(strikes.LastFailure, now) > TimeSpan.FromMinutes(_limits.FailedHelloWindowMinutes))
        {
            strikes.Failures = 0;
        }
        strikes.Failures++;
        strikes.LastFailure = now;
        if (strikes.Failures > free)
        {
            // 1 s, 2 s, 4 s ... up to the cap; the exponent is bounded so the shift cannot overflow.
            int doublings = Math.Min(strikes.Failures - free - 1, 30);
            double seconds = Math.Min((double)_limits.HelloBackoffInitialSeconds * (1L << doublings), maxSeconds);
            strikes.BlockedUntil = now + (long)(seconds * time.TimestampFrequency);
        }
    }

    /// <summary>Drops entries that are neither blocked nor within the failure window.</summary>
    private void Prune(long now)
    {
        var window = TimeSpan.FromMinutes(_limits.FailedHelloWindowMinutes);
        foreach (var (key, strikes) in _byAddress)
        {
            if (strikes.BlockedUntil <= now && time.GetElapsedTime(strikes.LastFailure, now) > window)
            {
                _byAddress.Remove(key);
            }
        }
        foreach (var (key, strikes) in _byAccount)
        {
            if (strikes.BlockedUntil <= now && time.GetElapsedTime(strikes.LastFailure, now) > window)
            {
                _byAccount.Remove(key);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Failed} Hellos failed with wrong credentials and {Refused} were refused in back-off in the last {Seconds} s, from {Addresses} addresses, for {Accounts} existing accounts")]
    private static partial void LogSummary(ILogger logger, int failed, int refused, int seconds, int addresses, int accounts);

    private sealed class Strikes
    {
        public int Failures;
        public long LastFailure;
        public long BlockedUntil;
    }
}
