namespace Parley.Web.Tests;

/// <summary>Waiting limits; they only keep a broken build from hanging and assert nothing about speed.</summary>
public static class Wait
{
    /// <summary>How long any single expected outcome may take before the test is declared hung.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary><see cref="Limit"/> in milliseconds, as Playwright takes it.</summary>
    public static float LimitMs => (float)Limit.TotalMilliseconds;

    /// <summary>A token cancelled after <see cref="Limit"/>.</summary>
    public static CancellationToken Token() => new CancellationTokenSource(Limit).Token;
}
