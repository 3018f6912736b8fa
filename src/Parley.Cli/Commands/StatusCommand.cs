using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary><c>parley status ID</c>: syncs (so pending receipts are applied), then prints the message's status.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The message id (as printed by send or receive)" };
        var command = new Command("status", "Show whether a message is sent, delivered or read")
        {
            id,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var messageId = parse.GetValue(id)!;
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            if (client.FindMessage(messageId) is not { } message)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"no message {messageId} in this profile", "not_found");
            }
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
            return ExitCodes.Ok;
        }));
        return command;
    }
}
