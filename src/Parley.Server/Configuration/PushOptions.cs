namespace Parley.Server.Configuration;

/// <summary>Push notifications (section <c>Parley:Push</c>): when to wake an offline device, and the limits on doing so.</summary>
public sealed class PushOptions
{
    /// <summary>Pushes go out at all. Off: subscriptions are still stored, nothing is sent.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The VAPID "sub" claim (RFC 8292): a mailto: or https: contact the push service can reach
    /// the operator at. Some push services (Apple's) refuse a placeholder; set a real one.
    /// </summary>
    public string Subject { get; set; } = "mailto:postmaster@localhost";

    /// <summary>
    /// Accept http:// push URLs on loopback hosts. Only for tests and a distributor on the same
    /// machine: a push URL elsewhere must be https, so the push cannot be read or forged on the way.
    /// </summary>
    public bool AllowLoopbackHttp { get; set; }

    /// <summary>
    /// Send pushes to any address, private networks included. Off (the default): a push goes only
    /// to public internet addresses, checked after DNS on every connection, so a device cannot make
    /// the server send requests into the operator's own network. On only when the push gateway or
    /// distributor runs inside that network, and every account holder is trusted with reaching it.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// Minutes after a push before the device, still offline, is pushed again. 10: a phone that
    /// lost the first push (asleep, no network) is not left behind long, without buzzing.
    /// </summary>
    public int RepushMinutes { get; set; } = 10;

    /// <summary>Each further re-push waits this many times longer (10, 20, 40 minutes...).</summary>
    public int RepushBackoffFactor { get; set; } = 2;

    /// <summary>Longest wait between re-pushes: a device offline for days gets about one a day, not none.</summary>
    public int MaxRepushMinutes { get; set; } = 24 * 60;

    /// <summary>Pushes waiting for a sender. Beyond it pushes are dropped (and counted): memory stays bounded when push services are slow.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Push requests in flight at once: a push service that hangs holds only these, never message delivery.</summary>
    public int MaxConcurrentRequests { get; set; } = 16;

    /// <summary>Seconds one push request may take before it counts as failed (and is retried).</summary>
    public int RequestTimeoutSeconds { get; set; } = 10;

    /// <summary>Tries per push on 429, 5xx, timeouts and network errors, the first included.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>First wait before a retry when the push service gives no Retry-After; doubled each retry.</summary>
    public int RetryBaseSeconds { get; set; } = 5;

    /// <summary>Longest Retry-After honoured: a push later than this is of little use, so the push is given up instead.</summary>
    public int MaxRetryAfterSeconds { get; set; } = 3600;
}
