using System.Globalization;

namespace Parley.Bench.Hosting;

/// <summary>Reads a Linux process's CPU time and resident memory from /proc.</summary>
internal static class ProcessProbe
{
    // USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux ABI .NET runs on.
    private const double ClockTicksPerSecond = 100;

    /// <summary>User + system CPU time the process has used so far, in microseconds (10 ms resolution).</summary>
    public static long CpuMicroseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces: fields after the last ')' are fixed.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture); // field 14
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture); // field 15
        return (long)((utime + stime) * (1_000_000 / ClockTicksPerSecond));
    }

    /// <summary>CPU time (user+system, microseconds) of the process's threads whose name starts with <paramref name="prefix"/>.</summary>
    public static long ThreadCpuMicroseconds(int pid, string prefix)
    {
        long ticks = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended while we looked
            }
        }
        return (long)(ticks * (1_000_000 / ClockTicksPerSecond));
    }

    /// <summary>Resident set size (VmRSS) in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    /// <summary>Machine-wide (busy, total) jiffies from /proc/stat, to tell whether the cores were saturated.</summary>
    public static (long Busy, long Total) MachineJiffies()
    {
        var line = File.ReadLines("/proc/stat").First();
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0;
        long idle = 0;
        for (int i = 1; i < parts.Length; i++)
        {
            long v = long.Parse(parts[i], CultureInfo.InvariantCulture);
            // guest time is already counted in user; fields 9 and 10 would count it twice.
            if (i <= 8)
            {
                total += v;
            }
            if (i is 4 or 5)
            {
                idle += v; // idle + iowait
            }
        }
        return (total - idle, total);
    }
}
