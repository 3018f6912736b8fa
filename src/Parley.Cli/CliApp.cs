using System.CommandLine;
using Parley.Cli.Commands;

namespace Parley.Cli;

/// <summary>The <c>parley</c> command tree.</summary>
internal static class CliApp
{
    /// <summary>Builds the root command with every subcommand and the shared --profile/--json options.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("Parley: self-hosted messaging. Run a server, register, send and receive. "
            + "Exit codes: 0 done, 1 usage, 2 the server refused or could not be reached, 3 queued in the outbox, not yet sent.");
        root.Options.Add(CliOptions.Profile);
        root.Options.Add(CliOptions.Json);
        root.Options.Add(CliOptions.Insecure);
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(RegisterCommand.Create());
        root.Subcommands.Add(LinkCommand.Create());
        root.Subcommands.Add(SendCommand.Create());
        root.Subcommands.Add(SendFileCommand.Create());
        root.Subcommands.Add(ReceiveCommand.Create());
        root.Subcommands.Add(SyncCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(ReadCommand.Create());
        root.Subcommands.Add(DevicesCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(SafetyNumberCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(PresenceCommand.Create());
        root.Subcommands.Add(GroupCommand.Create());
        root.Subcommands.Add(GroupsCommand.Create());
        return root;
    }
}
