namespace Parley.Server.Push;

/// <summary>The outcome of one push request, with the wait the push service asked for (Retry-After), if any.</summary>
public readonly record struct PushResult(PushOutcome Outcome, int? Status = null, TimeSpan? RetryAfter = null);
