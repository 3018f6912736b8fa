using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Gateway;

namespace Parley.Server.Push;

/// <summary>
/// Decides when a device is pushed and sends the pushes from background workers. The commit path
/// only calls <see cref="OnQueued"/>: an index lookup, a lock held for a dictionary update and a
/// channel write, never I/O. At most one push is outstanding per device until it connects; a
/// device still offline is pushed again after <see cref="PushOptions.RepushMinutes"/>, then less
/// and less often. A full queue drops the push (counted); the re-push covers it later.
/// </summary>
public sealed partial class PushScheduler : BackgroundService
{
    /// <summary>How often outstanding pushes are checked for a re-push; fine enough for a 10-minute interval.</summary>
    private static readonly TimeSpan RepushCheck = TimeSpan.FromSeconds(30);

    private readonly PushSubscriptions _subscriptions;
    private readonly PushDelivery _delivery;
    private readonly PushMetrics _metrics;
    private readonly ConnectionRegistry _registry;
    private readonly AccountDirectory _directory;
    private readonly PushOptions _options;
    private readonly TimeSpan _giveUpAfter;
    private readonly TimeProvider _time;
    private readonly ILogger<PushScheduler> _logger;
    private readonly Channel<PushJob> _jobs;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Outstanding> _outstanding = [];
    private readonly ConcurrentDictionary<long, DateTimeOffset> _retryDue = new();
    private ITimer? _repushTimer;
    private int _pending;
    private int _ticks;

    public PushScheduler(PushSubscriptions subscriptions, PushDelivery delivery, PushMetrics metrics, ConnectionRegistry registry,
        AccountDirectory directory, ParleyOptions options, TimeProvider time, ILogger<PushScheduler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _subscriptions = subscriptions;
        _delivery = delivery;
        _metrics = metrics;
        _registry = registry;
        _directory = directory;
        _options = options.Push;
        _giveUpAfter = TimeSpan.FromDays(options.Limits.EnvelopeTtlDays);
        _time = time;
        _logger = logger;
        _jobs = Channel.CreateBounded<PushJob>(new BoundedChannelOptions(Math.Max(1, _options.QueueCapacity))
        {
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: refuses when full, and we count the drop
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <summary>Pushes queued, in flight or waiting to retry: zero when the worker has nothing left to do.</summary>
    internal int Pending => Volatile.Read(ref _pending);

    /// <summary>Re-push checks run so far.</summary>
    internal int Ticks => Volatile.Read(ref _ticks);

    /// <summary>When a retry of the device's push is due, while one waits.</summary>
    internal DateTimeOffset? RetryDue(long deviceKey) => _retryDue.TryGetValue(deviceKey, out var at) ? at : null;

    /// <summary>
    /// An envelope of <paramref name="kind"/> was queued for a device with no live connection.
    /// Receipts never push; messages push with high urgency, anything else with low.
    /// </summary>
    public void OnQueued(long deviceKey, EnvelopeKind kind)
    {
        if (kind is EnvelopeKind.DeliveryReceipt or EnvelopeKind.ReadReceipt || !_options.Enabled || !_subscriptions.Has(deviceKey))
        {
            return;
        }
        var urgency = kind == EnvelopeKind.Message ? PushUrgency.High : PushUrgency.Low;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_outstanding.TryGetValue(deviceKey, out var outstanding))
            {
                if (outstanding.Urgency == PushUrgency.High || urgency == PushUrgency.Low)
                {
                    return;
                }
                outstanding.Urgency = PushUrgency.High; // a message after a low push: wake the device now, once
            }
            else
            {
                var interval = TimeSpan.FromMinutes(_options.RepushMinutes);
                _outstanding[deviceKey] = new Outstanding { Since = now, Urgency = urgency, Interval = interval, NextAt = now + interval };
            }
        }
        Enqueue(new PushJob(deviceKey, urgency, 1));
    }

    /// <summary>The device connected: its outstanding push (if any) is settled, and the next queued envelope may push again.</summary>
    public void OnConnected(long deviceKey) => Settle(deviceKey);

    private void Settle(long deviceKey)
    {
        lock (_gate)
        {
            _outstanding.Remove(deviceKey);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _repushTimer = _time.CreateTimer(_ => Repush(), null, RepushCheck, RepushCheck);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_repushTimer is not null)
        {
            await _repushTimer.DisposeAsync();
        }
        await base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = new Task[Math.Max(1, _options.MaxConcurrentRequests)];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(stoppingToken), stoppingToken);
        }
        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in _jobs.Reader.ReadAllAsync(stoppingToken))
            {
                await DeliverAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: queued pushes are lost; the devices still have their queues.
        }
    }

    private async Task DeliverAsync(PushJob job, CancellationToken stoppingToken)
    {
        try
        {
            if (_registry.Find(job.DeviceKey) is not null)
            {
                return; // it connected meanwhile: nothing to wake
            }
            var address = new DeviceAddress(job.DeviceKey >> 16, (uint)(job.DeviceKey & 0xFFFF));
            if (_directory.Find(address.AccountId)?.FindDevice(address.DeviceId) is null)
            {
                _subscriptions.Forget(job.DeviceKey); // the device left its account: so does its subscription
                return;
            }
            if (_subscriptions.Find(job.DeviceKey) is not { } target)
            {
                return; // unsubscribed meanwhile
            }
            var result = await _delivery.SendAsync(target, job.Urgency, stoppingToken);
            switch (result.Outcome)
            {
                case PushOutcome.Sent:
                    _metrics.Sent.Add(1);
                    break;
                case PushOutcome.Gone:
                    _subscriptions.Forget(job.DeviceKey);
                    Settle(job.DeviceKey); // nothing left to re-push to
                    _metrics.Failed.Add(1);
                    LogGone(_logger, address.AccountId, address.DeviceId, result.Status ?? 0);
                    break;
                case PushOutcome.Retry when job.Attempt < _options.MaxAttempts && RetryDelay(job, result) is { } delay:
                    RetryLater(job with { Attempt = job.Attempt + 1 }, delay, stoppingToken);
                    break;
                default:
                    _metrics.Failed.Add(1);
                    LogFailed(_logger, address.AccountId, address.DeviceId, result.Status ?? 0, job.Attempt);
                    break;
            }
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            _metrics.Failed.Add(1);
            LogError(_logger, e);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>The push service's Retry-After, or exponential back-off; null when the wait is too long to be worth it.</summary>
    private TimeSpan? RetryDelay(PushJob job, PushResult result)
    {
        var delay = result.RetryAfter ?? TimeSpan.FromSeconds(_options.RetryBaseSeconds * Math.Pow(2, job.Attempt - 1));
        return delay <= TimeSpan.FromSeconds(_options.MaxRetryAfterSeconds) ? delay : null;
    }

    private void RetryLater(PushJob job, TimeSpan delay, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref _pending); // before DeliverAsync's decrement: Pending never reads 0 in between
        _ = WaitThenEnqueueAsync();

        async Task WaitThenEnqueueAsync()
        {
            try
            {
                var wait = Task.Delay(delay, _time, stoppingToken);
                _retryDue[job.DeviceKey] = _time.GetUtcNow() + delay; // after the timer exists: whoever sees it can move the clock
                await wait;
                _retryDue.TryRemove(job.DeviceKey, out _);
                Enqueue(job);
            }
            catch (OperationCanceledException)
            {
                // Shutting down.
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private void Enqueue(PushJob job)
    {
        Interlocked.Increment(ref _pending);
        if (!_jobs.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _pending);
            _metrics.Dropped.Add(1);
        }
    }

    /// <summary>Pushes again every device whose outstanding push is older than its interval, and doubles the interval.</summary>
    private void Repush()
    {
        var now = _time.GetUtcNow();
        List<PushJob>? due = null;
        lock (_gate)
        {
            List<long>? expired = null;
            foreach (var (device, outstanding) in _outstanding)
            {
                if (outstanding.NextAt > now)
                {
                    continue;
                }
                if (now - outstanding.Since > _giveUpAfter)
                {
                    (expired ??= []).Add(device); // what it was pushed for has expired from its queue
                    continue;
                }
                var longer = outstanding.Interval * Math.Max(1, _options.RepushBackoffFactor);
                outstanding.Interval = longer < TimeSpan.FromMinutes(_options.MaxRepushMinutes) ? longer : TimeSpan.FromMinutes(_options.MaxRepushMinutes);
                outstanding.NextAt = now + outstanding.Interval;
                (due ??= []).Add(new PushJob(device, outstanding.Urgency, 1));
            }
            foreach (var device in expired ?? [])
            {
                _outstanding.Remove(device);
            }
        }
        foreach (var job in due ?? [])
        {
            Enqueue(job);
        }
        Interlocked.Increment(ref _ticks);
    }

    public override void Dispose()
    {
        _repushTimer?.Dispose();
        base.Dispose();
    }

    /// <summary>A device's push that has not yet been settled by a connect.</summary>
    private sealed class Outstanding
    {
        public DateTimeOffset Since { get; init; }

        public PushUrgency Urgency { get; set; }

        public TimeSpan Interval { get; set; }

        public DateTimeOffset NextAt { get; set; }
    }

    [LoggerMessage(LogLevel.Information, "Push subscription of {Account}.{Device} is gone (HTTP {Status}); deleted")]
    private static partial void LogGone(ILogger logger, long account, uint device, int status);

    [LoggerMessage(LogLevel.Warning, "Push to {Account}.{Device} failed (HTTP {Status}, attempt {Attempt}); given up")]
    private static partial void LogFailed(ILogger logger, long account, uint device, int status, int attempt);

    [LoggerMessage(LogLevel.Error, "Push failed")]
    private static partial void LogError(ILogger logger, Exception e);
}
