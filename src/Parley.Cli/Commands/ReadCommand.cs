using System.CommandLine;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary><c>parley read ID</c>: marks a received message read and sends READ to its sender.</summary>
internal static class ReadCommand
{
    public static Command Create() => CliContext.MessageCommand(
        "read", "Mark a received message read (the sender sees blue ticks)", "The id of a received message",
        async (ctx, client, message, ct) =>
        {
            if (message.Direction != MessageDirection.Incoming)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"message {message.Id} was sent by you; only received messages can be marked read", "usage");
            }
            await (message.GroupId is { } groupId
                ? client.MarkGroupReadAsync(groupId, [message.Id], ct)
                : client.MarkReadAsync(message.Peer, [message.Id], ct));
            ctx.Output.Result(new { id = message.Id, status = "read" }, $"[blue]✓✓[/] read {message.Id}");
            return ExitCodes.Ok;
        });
}
