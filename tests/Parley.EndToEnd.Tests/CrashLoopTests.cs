using System.Globalization;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>The crash loop (scripts/crash-loop.sh runs it with 100 kills), and its checker's own checks.</summary>
public sealed class CrashLoopTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_SENT_message_is_shown_exactly_once_in_order_across_server_kills()
    {
        // PARLEY_CRASH_KILLS lets the script run the long version; CI runs five kills.
        int kills = int.TryParse(Environment.GetEnvironmentVariable("PARLEY_CRASH_KILLS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 5;
        var result = await CrashLoop.RunAsync(kills, seed: 9, output.WriteLine);
        output.WriteLine(result.Summary);
        if (Environment.GetEnvironmentVariable("PARLEY_CRASH_REPORT") is { Length: > 0 } report)
        {
            await File.WriteAllTextAsync(report, result.Summary + Environment.NewLine + string.Join(Environment.NewLine, result.Problems));
        }
        Assert.True(result.Problems.Count == 0, string.Join("\n", result.Problems.Take(20)));
        Assert.Equal(result.Written, result.Acknowledged);
        Assert.Equal(result.Written, result.Shown);
    }

    [Fact]
    public void The_checker_finds_a_duplicate_a_loss_and_a_reordering()
    {
        var checker = new ExactlyOnceChecker();
        foreach (var seq in new[] { 1, 2, 3, 4 })
        {
            var text = ExactlyOnceChecker.Text("alice", "bob", seq);
            checker.Written(text);
            checker.Acknowledged(text);
        }
        checker.Shown("bob", "id1", "alice>bob#1");
        checker.Shown("bob", "id3", "alice>bob#3");
        checker.Shown("bob", "id2", "alice>bob#2");
        checker.Shown("bob", "id3", "alice>bob#3");

        var problems = checker.Problems();

        Assert.Contains(problems, p => p.Contains("#2\" after #3: out of order", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("\"alice>bob#3\" got SENT but was shown 2 times", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("\"alice>bob#4\" got SENT but was shown 0 times", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("message id id3 was shown 2 times", StringComparison.Ordinal));
    }

    [Fact]
    public void The_checker_accepts_a_run_shown_exactly_once_in_order_and_an_unsent_message_shown_once()
    {
        var checker = new ExactlyOnceChecker();
        checker.Written("alice>bob#1");
        checker.Acknowledged("alice>bob#1");
        checker.Written("alice>bob#2"); // never SENT, but it reached the server before the kill
        checker.Shown("bob", "a", "alice>bob#1");
        checker.Shown("bob", "b", "alice>bob#2");

        Assert.Empty(checker.Problems());
    }
}
