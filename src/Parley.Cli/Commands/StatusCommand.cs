using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley status ID</c>: connects (sending what is queued), syncs (so receipts are applied), then
/// prints the message's status. When the server cannot be reached it prints what this device knows
/// (a queued message is pending, 🕓) with a note on stderr.
/// </summary>
internal static class StatusCommand
{
    public static Command Create() => CliContext.MessageCommand(
        "status", "Show whether a message is pending (🕓), sent, delivered or read", "The message id (as printed by send or receive)", worksOffline: true,
        (ctx, client, message, ct) =>
        {
            var status = CliContext.StatusName(message.Status);
            var ticks = status switch
            {
                "sent" => "[grey]✓[/]",
                "delivered" => "[grey]✓✓[/]",
                "read" => "[blue]✓✓[/]",
                "failed" => "[red]✗[/]",
                _ => CliContext.Pending,
            };
            if (message.GroupId is not null)
            {
                // A group message: each member device's tick as well (✓✓ once every device has it, blue once every member read it).
                var members = client.GetMemberReceipts(message.Id)
                    .Select(r => new { user = r.User, device = r.Device, status = CliContext.StatusName(r.Status) }).ToList();
                var lines = string.Join("\n", members.Select(m => $"  {Spectre.Console.Markup.Escape(m.user)}.{m.device}: {m.status}"));
                ctx.Output.Result(new { id = message.Id, status, group_id = message.GroupId, members }, $"{ticks} {status} {message.Id}\n{lines}");
                return Task.FromResult(ExitCodes.Ok);
            }
            ctx.Output.Result(new { id = message.Id, status }, $"{ticks} {status} {message.Id}");
            return Task.FromResult(ExitCodes.Ok);
        });
}
