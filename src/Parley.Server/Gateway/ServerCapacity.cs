using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>
/// How many connections this process can hold. Each costs a file descriptor; the server stops
/// accepting WebSockets below the open-file limit so it refuses cleanly (close 1013) instead of
/// failing accept() and the database's own file opens.
/// </summary>
public sealed partial class ServerCapacity
{
    /// <summary>Descriptors kept back for the database, listeners, logs and the HTTP endpoints.</summary>
    public const int ReservedDescriptors = 512;

    private long _refused;
    private long _lastLogTicks;

    public ServerCapacity(IOptions<ParleyOptions> options)
    {
        var configured = options.Value.Limits.MaxConnections;
        MaxConnections = configured > 0 ? configured : Math.Max(64, OpenFileLimit() - ReservedDescriptors);
    }

    public int MaxConnections { get; }

    /// <summary>Connections refused because the server was full, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void NoteRefused(ILogger logger)
    {
        var total = Interlocked.Increment(ref _refused);
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastLogTicks);
        // One line per 10 s at most: a refusal storm must not become a logging storm.
        if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastLogTicks, now, last) == last)
        {
            LogFull(logger, MaxConnections, total);
        }
    }

    /// <summary>The soft RLIMIT_NOFILE of this process, read from /proc; a safe default elsewhere.</summary>
    public static int OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (int.TryParse(parts[3], out var soft))
                    {
                        return soft;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 8192;
    }

    [LoggerMessage(LogLevel.Warning, "Server full at {Max} connections: refusing new ones with close 1013 ({Total} refused so far)")]
    private static partial void LogFull(ILogger logger, int max, long total);
}
