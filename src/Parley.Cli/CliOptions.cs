using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>Options every command takes.</summary>
internal static class CliOptions
{
    /// <summary>The device profile folder (one per device).</summary>
    public static readonly Option<string> Profile = new("--profile")
    {
        Description = "Profile folder of this device (default ~/.parley)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_PROFILE") is { Length: > 0 } env ? env : ParleyClient.DefaultProfileDirectory,
        HelpName = "DIR",
    };

    /// <summary>Allows sending credentials over plain http:// / ws:// to a host other than this machine.</summary>
    public static readonly Option<bool> Insecure = new("--insecure")
    {
        Description = "Allow sending the device password unencrypted (http://) to a server that is not on this machine",
        Recursive = true,
    };

    /// <summary>Machine-readable output: one JSON object per line on stdout, nothing else.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one JSON object per line on stdout and nothing else",
        Recursive = true,
    };
}
