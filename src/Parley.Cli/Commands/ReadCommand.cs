using System.CommandLine;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary><c>parley read ID</c>: marks a received message read and sends READ to its sender.</summary>
internal static class ReadCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The id of a received message" };
        var command = new Command("read", "Mark a received message read (the sender sees blue ticks)")
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
            if (message.Direction != MessageDirection.Incoming)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"message {messageId} was sent by you; only received messages can be marked read", "usage");
            }
            await client.MarkReadAsync(message.Peer, [message.Id], ct);
            ctx.Output.Result(new { id = message.Id, status = "read" }, $"[blue]✓✓[/] read {message.Id}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
