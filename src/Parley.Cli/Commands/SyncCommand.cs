using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley sync</c>: connects, sends what waits in the outbox and stores what waits on the server
/// (without printing it: <c>parley receive</c> does). Exit code 3 while something stays queued.
/// </summary>
internal static class SyncCommand
{
    public static Command Create()
    {
        var command = new Command("sync", "Send queued messages (🕓) and fetch waiting ones; `parley receive` prints them");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = ctx.OpenClient();
            var queued = client.QueuedMessageIds();
            await CliContext.ConnectAsync(client, giveUpAtFirstFailure: false, ct);
            foreach (var id in await ctx.FlushOutboxAsync(client, queued, ct, noteSent: false))
            {
                ctx.Output.Result(new { id, status = "sent" }, $"[grey]✓[/] sent {id}");
            }
            await client.SyncAsync(ct);
            var left = client.PendingSends;
            if (left > 0)
            {
                ctx.Output.Result(new { queued = left }, $"{CliContext.Pending} {left} message(s) still queued");
                return ExitCodes.Queued;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
