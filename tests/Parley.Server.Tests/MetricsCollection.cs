namespace Parley.Server.Tests;

/// <summary>Tests that read process-wide meters: they run after the others, never beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
