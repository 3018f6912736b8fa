namespace Parley.Fuzz.Engine;

/// <summary>
/// One thing under fuzz. An execution either returns an outcome label (how the input was
/// refused or handled: "InvalidMessageException", "close 1002", "400"...) or throws: any
/// exception out of <see cref="ExecuteAsync"/> is a finding.
/// </summary>
public interface IFuzzTarget : IAsyncDisposable
{
    /// <summary>Short name, used to pick the target on the command line.</summary>
    string Name { get; }

    /// <summary>How many inputs run at once (1 for pure parsers; more where a server waits on I/O).</summary>
    int Workers { get; }

    /// <summary>Valid inputs that mutations start from.</summary>
    IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>A mutated copy of <paramref name="input"/>, in this target's format; <paramref name="other"/> is another corpus entry.</summary>
    byte[] Mutate(byte[] input, byte[] other, Mutator mutator);

    /// <summary>Runs one input on worker <paramref name="worker"/>; returns its outcome, or throws when the property is broken.</summary>
    ValueTask<string> ExecuteAsync(byte[] input, int worker);

    /// <summary>After the run: throws unless the thing under fuzz still serves a well-behaved client.</summary>
    Task CheckStillServingAsync();
}
