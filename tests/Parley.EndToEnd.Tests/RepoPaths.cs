namespace Parley.EndToEnd.Tests;

/// <summary>Finds the built server and CLI assemblies next to this test build (same configuration).</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the folder holding src/).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: whatever this test assembly was built as.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The built Parley.Server.dll; PARLEY_SERVER_DLL names another (a published, trimmed server, as the web bench takes it).</summary>
    public static string ServerDll => Environment.GetEnvironmentVariable("PARLEY_SERVER_DLL") is { Length: > 0 } published
        ? published
        : Built("Parley.Server", "Parley.Server.dll");

    /// <summary>The built parley.dll (the CLI).</summary>
    public static string CliDll => Built("Parley.Cli", "parley.dll");

    private static string Built(string project, string file)
    {
        var path = Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first ({Configuration}).", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "src", "Parley.Server")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Could not find the repository root above the test folder.");
    }
}
