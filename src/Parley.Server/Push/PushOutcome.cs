namespace Parley.Server.Push;

/// <summary>What one push request came to.</summary>
public enum PushOutcome
{
    /// <summary>The push service accepted the push.</summary>
    Sent,

    /// <summary>The subscription no longer exists (404, 410, or the gateway rejected the token): delete it.</summary>
    Gone,

    /// <summary>Worth trying again (429, 5xx, timeout, network error), after <see cref="PushResult.RetryAfter"/> when given.</summary>
    Retry,

    /// <summary>Refused for good (another 4xx): the push is given up, the subscription kept.</summary>
    Failed,
}
