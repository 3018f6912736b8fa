namespace Parley.EndToEnd.Tests;

/// <summary>
/// One thing the walkthrough has the reader do: the commands of an <c>sh</c> block in one terminal
/// (named by the block's first line, <c># terminal 2 (alice)</c>) and the output block shown after
/// it, or stopping the server (a sentence that says to press Ctrl+C in terminal 1).
/// </summary>
internal sealed record WalkthroughStep(string Terminal, IReadOnlyList<string> Commands, IReadOnlyList<string> Output, bool StopsServer)
{
    public static IReadOnlyList<WalkthroughStep> Parse(string markdown)
    {
        var steps = new List<WalkthroughStep>();
        var terminal = "";
        List<string>? block = null;
        string? fence = null;
        var lastWasShell = false;
        foreach (var line in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            if (block is null)
            {
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    fence = line[3..].Trim();
                    block = [];
                }
                else if (line.Contains("press Ctrl+C in terminal 1", StringComparison.Ordinal))
                {
                    steps.Add(new WalkthroughStep("terminal 1", [], [], StopsServer: true));
                    lastWasShell = false;
                }
                continue;
            }
            if (!line.StartsWith("```", StringComparison.Ordinal))
            {
                block.Add(line);
                continue;
            }
            if (fence == "sh")
            {
                if (block.FirstOrDefault() is { } first && first.StartsWith("# ", StringComparison.Ordinal))
                {
                    terminal = first[2..].Trim();
                }
                var commands = block.Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).Select(l => l.Trim()).ToList();
                steps.Add(new WalkthroughStep(terminal, commands, [], StopsServer: false));
                lastWasShell = true;
            }
            else if (lastWasShell)
            {
                // The first output block after a command block is what those commands print.
                steps[^1] = steps[^1] with { Output = block };
                lastWasShell = false;
            }
            block = null;
        }
        return steps;
    }
}
