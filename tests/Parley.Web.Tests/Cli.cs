using System.Diagnostics;
using System.Text.Json;

namespace Parley.Web.Tests;

/// <summary>Runs the built <c>parley</c> CLI as a separate process, as a person at a terminal would.</summary>
public static class Cli
{
    /// <summary>Runs <c>parley ARGS</c> to the end; returns the exit code and stdout lines parsed as JSON.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<JsonElement> Json, string Error)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(RepoPaths.CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("PARLEY_PROFILE");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start parley.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Wait.Limit);
        await process.WaitForExitAsync(limit.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, [.. lines.Select(l => JsonDocument.Parse(l).RootElement)], await stderr);
    }
}
