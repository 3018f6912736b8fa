using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parley.Fuzz.Targets;

/// <summary>
/// Keeps the server's Error and Critical log entries: the server logs an exception it did not
/// expect ("Request Send failed") at Error, so any entry here during a fuzz run is a finding.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    /// <summary>Error entries so far.</summary>
    public int Count => _errors.Count;

    /// <summary>Error entries after the first <paramref name="skip"/>.</summary>
    public IReadOnlyList<string> Since(int skip) => [.. _errors.Skip(skip)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._errors.Enqueue($"{logLevel} {category}: {formatter(state, exception)}\n{exception}");
            }
        }
    }
}
