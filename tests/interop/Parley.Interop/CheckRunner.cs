using System.Diagnostics;

namespace Parley.Interop;

/// <summary>
/// Runs named checks, prints one line per check and counts passes and failures. A check marked as
/// a known gap that fails prints GAP with the reason instead of failing the run, unless strict.
/// </summary>
internal sealed class CheckRunner(bool strict)
{
    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Gaps { get; private set; }

    public Task RunAsync(string name, Func<Task> check) => RunAsync(name, knownGap: null, check);

    public async Task RunAsync(string name, string? knownGap, Func<Task> check)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await check().ConfigureAwait(false);
            Passed++;
            Console.WriteLine($"PASS {name} ({clock.ElapsedMilliseconds} ms)");
        }
        catch (Exception e) when (knownGap is not null && !strict)
        {
            Gaps++;
            Console.WriteLine($"GAP  {name}: {knownGap} [{e.GetType().Name}: {e.Message}]");
        }
        catch (Exception e)
        {
            Failed++;
            Console.WriteLine($"FAIL {name}: {e.GetType().Name}: {e.Message}");
        }
    }
}
