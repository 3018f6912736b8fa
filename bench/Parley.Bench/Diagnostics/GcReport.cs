using System.Globalization;
using Microsoft.Diagnostics.Tracing;

namespace Parley.Bench.Diagnostics;

/// <summary>
/// The hidden <c>gc-report TRACE.nettrace [TOP] [MSGS_PER_S]</c> verb: reads a trace taken with
/// <c>dotnet-trace collect --profile gc-verbose</c> and prints GC counts and pause time per
/// generation, the allocation rate, and the types allocated most (from AllocationTick sampling,
/// one event per ~100 KB) — per message when the message rate is given.
/// </summary>
internal static class GcReport
{
    public const string Verb = "gc-report";

    public static int Run(string[] args)
    {
        if (args.Length < 2 || !File.Exists(args[1]))
        {
            Console.Error.WriteLine("usage: gc-report TRACE.nettrace [TOP] [MSGS_PER_S]");
            return 2;
        }
        int top = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30;
        double rate = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0;

        var collections = new int[3];
        var pauses = new double[3];
        int generation = 0;
        double? suspendedAt = null;
        var allocated = new Dictionary<string, long>(StringComparer.Ordinal);
        long allocatedTotal = 0;
        double first = double.NaN, last = double.NaN;
        using (var source = new EventPipeEventSource(args[1]))
        {
            var clr = source.Clr;
            clr.GCStart += e =>
            {
                generation = Math.Min(e.Depth, 2);
                collections[generation]++;
            };
            clr.GCSuspendEEStart += e => suspendedAt ??= e.TimeStampRelativeMSec;
            clr.GCRestartEEStop += e =>
            {
                if (suspendedAt is double at)
                {
                    pauses[generation] += e.TimeStampRelativeMSec - at;
                }
                suspendedAt = null;
            };
            clr.GCAllocationTick += e =>
            {
                var type = e.TypeName ?? "?";
                allocated[type] = allocated.GetValueOrDefault(type) + e.AllocationAmount64;
                allocatedTotal += e.AllocationAmount64;
                if (double.IsNaN(first))
                {
                    first = e.TimeStampRelativeMSec;
                }
                last = e.TimeStampRelativeMSec;
            };
            source.Process();
        }

        double seconds = Math.Max(0.001, (last - first) / 1000);
        Console.WriteLine(FormattableString.Invariant(
            $"{seconds:0.0} s: GCs gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]}; paused {pauses.Sum():0} ms ({pauses.Sum() / 10 / seconds:0.0}% of the time; gen0 {pauses[0]:0}, gen1 {pauses[1]:0}, gen2 {pauses[2]:0} ms)"));
        Console.WriteLine(FormattableString.Invariant($"allocated {allocatedTotal / 1048576.0 / seconds:0.0} MiB/s") +
                          (rate > 0 ? FormattableString.Invariant($", {allocatedTotal / seconds / rate:N0} B per message at {rate:N0} msgs/s") : ""));
        foreach (var (type, bytes) in allocated.OrderByDescending(kv => kv.Value).Take(top))
        {
            var each = rate > 0 ? FormattableString.Invariant($"{bytes / seconds / rate,7:N0} B/msg  ") : "";
            Console.WriteLine(FormattableString.Invariant($"{bytes * 100.0 / allocatedTotal,5:0.0}%  {bytes / 1048576.0 / seconds,7:0.00} MiB/s  {each}{type}"));
        }
        return 0;
    }
}
