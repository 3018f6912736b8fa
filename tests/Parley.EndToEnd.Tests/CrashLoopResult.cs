namespace Parley.EndToEnd.Tests;

/// <summary>The figures of one crash-loop run and the checker's verdict.</summary>
public sealed record CrashLoopResult(int Kills, int Written, int Acknowledged, int Shown, int InFlightAtKills, TimeSpan Duration, IReadOnlyList<string> Problems)
{
    public string Summary =>
        $"{Kills} kills, {Written} messages written, {Acknowledged} SENT, {Shown} shown, {InFlightAtKills} sends in flight at the kills, " +
        $"{Duration.TotalSeconds:F0} s: {(Problems.Count == 0 ? "exactly once, in order" : $"{Problems.Count} problems")}";
}
