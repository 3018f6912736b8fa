namespace Parley.Fuzz.Engine;

/// <summary>What one run of one target did: inputs, time, findings and how inputs were handled.</summary>
public sealed class FuzzReport(string target, long inputs, TimeSpan elapsed, long findingCount, IReadOnlyList<FuzzFinding> findings,
    IReadOnlyDictionary<string, long> outcomes, int corpusSize)
{
    public string Target { get; } = target;

    public long Inputs { get; } = inputs;

    public TimeSpan Elapsed { get; } = elapsed;

    /// <summary>All inputs that broke the property (only the first few are kept in <see cref="Findings"/>).</summary>
    public long FindingCount { get; } = findingCount;

    public IReadOnlyList<FuzzFinding> Findings { get; } = findings;

    /// <summary>How many inputs ended in each outcome.</summary>
    public IReadOnlyDictionary<string, long> Outcomes { get; } = outcomes;

    /// <summary>Inputs kept to mutate further: seeds plus each input that first produced an outcome.</summary>
    public int CorpusSize { get; } = corpusSize;

    public double ExecsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>One line for logs and docs.</summary>
    public string Summary =>
        $"{Target}: {Inputs:N0} inputs in {Elapsed.TotalSeconds:F1} s ({ExecsPerSecond:N0} execs/s), {FindingCount} crashes, {Outcomes.Count} outcomes, corpus {CorpusSize}";

    /// <summary>The findings, readable: problem and input in hex.</summary>
    public string Describe() => string.Join("\n\n", Findings.Select(f => $"input {Convert.ToHexString(f.Input)}\n{f.Problem}"));
}
