using System.Diagnostics;
using Parley.Bench.Diagnostics;
using Parley.Bench.Hosting;

namespace Parley.Bench.Scenarios;

/// <summary>
/// CPU use over a measured window: the server process's user+system time, this process's own
/// time, and how busy the whole machine was (to show when the cores were saturated).
/// </summary>
internal sealed class CpuWindow
{
    private readonly ServerUnderTest _server;
    private readonly ProfileWindow? _profile;
    private readonly long _start;
    private readonly long? _serverCpu0;
    private readonly TimeSpan _benchCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly (long Busy, long Total) _machine0 = ProcessProbe.MachineJiffies();

    private readonly long? _jit0;

    private CpuWindow(ServerUnderTest server, string? window)
    {
        _server = server;
        _profile = window is null ? null : ProfileWindow.Start(server.Pid, window);
        _start = Stopwatch.GetTimestamp();
        _serverCpu0 = server.CpuMicroseconds();
        _jit0 = server.Pid is int pid ? ProcessProbe.ThreadCpuMicroseconds(pid, ".NET Tiered") : null;
    }

    /// <summary>Starts a window; <paramref name="window"/> names it for a --profile-window command (load, idle; null: not profiled).</summary>
    public static CpuWindow Start(ServerUnderTest server, string? window = "load") => new(server, window);

    /// <summary>How busy the machine was in the second before the run started (0..1), or null when not measured.</summary>
    public static double? BusyBeforeRun { get; private set; }

    /// <summary>Samples the whole machine for a second before anything starts: other work skews every figure.</summary>
    public static async Task MeasureBusyBeforeRunAsync(CancellationToken ct)
    {
        var before = ProcessProbe.MachineJiffies();
        await Task.Delay(1000, ct);
        var after = ProcessProbe.MachineJiffies();
        long total = after.Total - before.Total;
        BusyBeforeRun = total == 0 ? 0 : (double)(after.Busy - before.Busy) / total;
    }

    public double Seconds { get; private set; }

    /// <summary>Server CPU microseconds in the window; null when the server's pid is unknown.</summary>
    public long? ServerCpuMicroseconds { get; private set; }

    public double BenchCpuSeconds { get; private set; }

    /// <summary>CPU microseconds the server's tiered-compilation (JIT) thread used in the window.</summary>
    public long? ServerJitMicroseconds { get; private set; }

    /// <summary>Busy share of all cores, 0..1.</summary>
    public double MachineBusy { get; private set; }

    public void Stop()
    {
        Seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        var serverCpu1 = _server.CpuMicroseconds();
        ServerCpuMicroseconds = serverCpu1 - _serverCpu0;
        // The JIT's thread may end when idle, taking its CPU time out of the sum: then say nothing.
        long? jit = _server.Pid is int pid ? ProcessProbe.ThreadCpuMicroseconds(pid, ".NET Tiered") - _jit0 : null;
        ServerJitMicroseconds = jit >= 0 ? jit : null;
        BenchCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _benchCpu0).TotalSeconds;
        var machine1 = ProcessProbe.MachineJiffies();
        long total = machine1.Total - _machine0.Total;
        MachineBusy = total == 0 ? 0 : (double)(machine1.Busy - _machine0.Busy) / total;
        _profile?.Stop();
    }

    /// <summary>Adds the CPU rows; per message too when <paramref name="messages"/> is positive (this process's as well with <paramref name="benchPerMessage"/>).</summary>
    public void Report(ResultReport report, long messages, bool benchPerMessage = false)
    {
        if (ServerCpuMicroseconds is long cpu)
        {
            report.Row("server CPU", cpu / 1e6 / Seconds * 100, "0", "% of one core" +
                (ServerJitMicroseconds is long jit && cpu > 0 ? $" ({100.0 * jit / cpu:0.0}% of it in the JIT's tiered compilation)" : ""));
            if (messages > 0)
            {
                report.Row("server CPU per message", (double)cpu / messages, "0.0", "µs");
            }
        }
        report.Row("bench CPU", BenchCpuSeconds / Seconds * 100, "0", "% of one core");
        if (benchPerMessage && messages > 0)
        {
            report.Row("bench CPU per message", BenchCpuSeconds * 1e6 / messages, "0.0", "µs");
        }
        report.Row("machine busy", MachineBusy * 100, "0", $"% of {Environment.ProcessorCount} cores");
        if (BusyBeforeRun is double idleBusy)
        {
            report.Row("machine busy before the run", idleBusy * 100, "0", $"% of {Environment.ProcessorCount} cores" + (idleBusy > 0.15 ? " (other work running: figures are pessimistic)" : ""));
        }
        if (ServerCpuMicroseconds is long serverCpu)
        {
            // What neither the server nor this process used: other work on the machine, which
            // makes the figures pessimistic when it is more than a few percent.
            double others = (MachineBusy * Environment.ProcessorCount) - (serverCpu / 1e6 / Seconds) - (BenchCpuSeconds / Seconds);
            report.Row("other processes", Math.Max(0, others) * 100, "0", "% of one core");
        }
    }
}
