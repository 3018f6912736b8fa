using Parley.Fuzz.Engine;
using Parley.Fuzz.Targets;

namespace Parley.Fuzz;

/// <summary>
/// The long-run mode: <c>dotnet run --project tests/Parley.Fuzz -c Release -- [--target NAME|all] [--inputs N] [--seed S] [--crashes DIR]</c>.
/// Prints one line per target (inputs, execs/s, crashes); exits 1 when any target broke its property.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string target = "all", crashes = "fuzz-crashes";
        long inputs = 1_000_000;
        int seed = 1;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--target":
                    target = args[i + 1];
                    break;
                case "--inputs":
                    inputs = long.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--crashes":
                    crashes = args[i + 1];
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }
        var names = target == "all" ? FuzzTargets.Names : target.Split(',');
        bool clean = true;
        foreach (var name in names)
        {
            await using var fuzzTarget = await FuzzTargets.StartAsync(name);
            var report = await FuzzRunner.RunAsync(fuzzTarget, inputs, seed, TimeSpan.FromSeconds(30), crashes, Console.WriteLine);
            string after = "still serving";
            try
            {
                await fuzzTarget.CheckStillServingAsync();
            }
            catch (Exception e)
            {
                after = "NOT serving: " + e.Message;
                clean = false;
            }
            Console.WriteLine($"{report.Summary}; {after}");
            foreach (var (outcome, count) in report.Outcomes.OrderByDescending(o => o.Value).Take(16))
            {
                Console.WriteLine($"    {count,10:N0}  {outcome}");
            }
            if (report.FindingCount > 0)
            {
                clean = false;
                Console.WriteLine(report.Describe());
            }
        }
        return clean ? 0 : 1;
    }
}
