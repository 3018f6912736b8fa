using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary><c>parley status ID</c>: syncs (so pending receipts are applied), then prints the message's status.</summary>
internal static class StatusCommand
{
    public static Command Create() => CliContext.MessageCommand(
        "status", "Show whether a message is sent, delivered or read", "The message id (as printed by send or receive)",
        (ctx, client, message, ct) =>
        {
            var status = CliContext.StatusName(message.Status);
            var ticks = status switch
            {
                "sent" => "[grey]✓[/]",
                "delivered" => "[grey]✓✓[/]",
                "read" => "[blue]✓✓[/]",
                "failed" => "[red]✗[/]",
                _ => "[grey]…[/]",
            };
            ctx.Output.Result(new { id = message.Id, status }, $"{ticks} {status} {message.Id}");
            return Task.FromResult(ExitCodes.Ok);
        });
}
