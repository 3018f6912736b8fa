using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace Parley.Cli;

/// <summary>
/// Where a command's results go: JSON lines on stdout with <c>--json</c>, friendly text otherwise.
/// Errors always get a plain line on stderr (and an <c>{"error":…}</c> line on stdout with --json).
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly Lock _gate = new();

    public CliOutput(bool json)
    {
        Json = json;
        if (Console.IsOutputRedirected)
        {
            // Piped output is read by programs, not a screen: never wrap a line at 80 columns.
            AnsiConsole.Profile.Width = 4096;
        }
    }

    /// <summary>True when output is JSON lines.</summary>
    public bool Json { get; }

    /// <summary>Writes one result: <paramref name="value"/> as a JSON line, or <paramref name="text"/> (Spectre markup) for people.</summary>
    public void Result(object value, string text)
    {
        lock (_gate)
        {
            if (Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
                Console.Out.Flush();
            }
            else
            {
                AnsiConsole.MarkupLine(text);
            }
        }
    }

    /// <summary>A progress note for people; silent with --json (stdout stays pure JSON).</summary>
    public void Note(string text)
    {
        if (!Json)
        {
            lock (_gate)
            {
                Console.Error.WriteLine(text);
            }
        }
    }

    /// <summary>Reports a failure and returns <paramref name="exitCode"/>.</summary>
    public int Error(int exitCode, string message, string? code = null)
    {
        lock (_gate)
        {
            Console.Error.WriteLine($"parley: {message}");
            if (Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { error = message, code, exit_code = exitCode }, Options));
                Console.Out.Flush();
            }
        }
        return exitCode;
    }

    /// <summary>Formats a time for JSON: ISO 8601 in UTC with milliseconds.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
