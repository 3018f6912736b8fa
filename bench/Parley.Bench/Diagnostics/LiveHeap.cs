using System.Globalization;
using Microsoft.Diagnostics.Runtime;

namespace Parley.Bench.Diagnostics;

/// <summary>
/// The hidden <c>live-heap PID [TOP] [PER]</c> verb: attaches to a running .NET process (briefly
/// suspending it), walks the objects reachable from its roots, and prints bytes and counts per
/// type — optionally divided by PER (e.g. the number of open connections).
/// </summary>
internal static class LiveHeap
{
    public const string Verb = "live-heap";

    public static int Run(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int pid))
        {
            Console.Error.WriteLine("usage: live-heap PID [TOP] [PER]");
            return 2;
        }
        int top = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 40;
        double per = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0;

        var stats = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        long objects = 0;
        using (var target = DataTarget.AttachToProcess(pid, suspend: true))
        {
            var heap = target.ClrVersions[0].CreateRuntime().Heap;
            var seen = new HashSet<ulong>();
            var pending = new Stack<ulong>();
            foreach (var root in heap.EnumerateRoots())
            {
                if (root.Object.Address != 0)
                {
                    pending.Push(root.Object.Address);
                }
            }
            while (pending.TryPop(out var address))
            {
                if (!seen.Add(address))
                {
                    continue;
                }
                var obj = heap.GetObject(address);
                if (!obj.IsValid)
                {
                    continue;
                }
                var name = obj.Type?.Name ?? "?";
                var s = stats.GetValueOrDefault(name);
                stats[name] = (s.Count + 1, s.Bytes + (long)obj.Size);
                foreach (var child in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
                {
                    if (child != 0 && !seen.Contains(child))
                    {
                        pending.Push(child);
                    }
                }
            }
            objects = seen.Count;
        }

        long total = stats.Values.Sum(v => v.Bytes);
        Console.WriteLine(FormattableString.Invariant($"live objects: {objects:N0}, {total / 1048576.0:0.0} MiB") +
                          (per > 0 ? FormattableString.Invariant($", {total / per:N0} B per {per:N0}") : ""));
        foreach (var (name, v) in stats.OrderByDescending(kv => kv.Value.Bytes).Take(top))
        {
            var each = per > 0 ? FormattableString.Invariant($"{v.Bytes / per,8:N0} B/unit {v.Count / per,6:0.0}/unit  ") : "";
            Console.WriteLine(FormattableString.Invariant($"{v.Bytes,14:N0} B {v.Count,10:N0}  {each}{name}"));
        }
        return 0;
    }
}
