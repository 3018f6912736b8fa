using System.Diagnostics;
using System.Text.Json;

namespace Parley.EndToEnd.Tests;

/// <summary>Runs the built <c>parley</c> CLI as a separate process and collects its output.</summary>
public static class Cli
{
    /// <summary>The outcome of one run: exit code, stdout lines (parsed as JSON when asked), stderr.</summary>
    public sealed record Run(int ExitCode, IReadOnlyList<string> Lines, string Error)
    {
        /// <summary>Every stdout line parsed as one JSON object (fails the test if any line is not).</summary>
        public IReadOnlyList<JsonElement> Json => [.. Lines.Select(l => JsonDocument.Parse(l).RootElement)];

        /// <summary>The one JSON line; a run that printed none or several fails with its exit code and stderr, to say why.</summary>
        public JsonElement Single => Json is [var one] ? one : throw new Xunit.Sdk.XunitException(
            $"expected one JSON line, got {Lines.Count} (exit code {ExitCode}); stderr: {Error}");
    }

    /// <summary>Starts <c>parley ARGS</c>; the caller waits for it.</summary>
    public static Process Start(params string[] args) => Start(null, args);

    /// <summary>Starts <c>parley ARGS</c> with extra environment variables.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepoPaths.CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("PARLEY_PROFILE");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start parley.");
    }

    /// <summary>Runs <c>parley ARGS</c> to the end.</summary>
    public static async Task<Run> RunAsync(params string[] args)
    {
        using var process = Start(args);
        return await FinishAsync(process);
    }

    /// <summary>Runs <c>parley ARGS</c> to the end with extra environment variables.</summary>
    public static async Task<Run> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        return await FinishAsync(process);
    }

    /// <summary>Waits for a started run to end and collects its output.</summary>
    public static async Task<Run> FinishAsync(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Wait.Limit);
        await process.WaitForExitAsync(limit.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new Run(process.ExitCode, lines, await stderr);
    }
}
