using System.Diagnostics;

namespace Parley.Interop;

/// <summary>Runs named checks, prints one line per check and counts passes and failures.</summary>
internal sealed class CheckRunner
{
    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public async Task RunAsync(string name, Func<Task> check)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await check().ConfigureAwait(false);
            Passed++;
            Console.WriteLine($"PASS {name} ({clock.ElapsedMilliseconds} ms)");
        }
        catch (Exception e)
        {
            Failed++;
            Console.WriteLine($"FAIL {name}: {e.GetType().Name}: {e.Message}");
        }
    }
}
