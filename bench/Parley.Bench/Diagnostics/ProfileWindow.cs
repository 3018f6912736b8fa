using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.Bench.Diagnostics;

/// <summary>
/// <c>--profile-window CMD</c>: runs CMD (through <c>/bin/sh -c "exec CMD"</c>) for exactly each
/// measured window, with <c>PARLEY_SERVER_PID</c> and <c>PARLEY_WINDOW</c> (load, idle or hold)
/// in its environment, and stops it with SIGINT when the window ends, so that
/// <c>perf stat -p $PARLEY_SERVER_PID -o FILE</c> counts the window and nothing else
/// (scripts/profile-counts.sh does that).
/// </summary>
internal sealed partial class ProfileWindow
{
    private const int SigInt = 2;

    /// <summary>How long the command gets to attach before the window starts.</summary>
    private const int AttachMilliseconds = 1500;

    private readonly Process _process;

    private ProfileWindow(Process process) => _process = process;

    /// <summary>The command, from the options; null runs nothing.</summary>
    public static string? Command { get; set; }

    /// <summary>Starts the command for the window named <paramref name="window"/>; null when there is none to run or no pid.</summary>
    public static ProfileWindow? Start(int? serverPid, string window)
    {
        if (Command is not { } command || serverPid is not int pid)
        {
            return null;
        }
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec " + command);
        info.Environment["PARLEY_SERVER_PID"] = pid.ToString(CultureInfo.InvariantCulture);
        info.Environment["PARLEY_WINDOW"] = window;
        var process = Process.Start(info) ?? throw new InvalidOperationException("--profile-window: the command did not start");
        // perf opens one counter per event and thread before it counts: on a busy machine that
        // takes a few hundred milliseconds, and a SIGINT before it is done leaves no counts.
        Thread.Sleep(AttachMilliseconds);
        return new ProfileWindow(process);
    }

    /// <summary>Interrupts the command (it writes its counts on SIGINT) and waits for it to end.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigInt);
        }
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
