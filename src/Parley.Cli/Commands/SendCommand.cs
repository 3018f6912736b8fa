using System.CommandLine;
using Parley.Client;
using Parley.Protocol;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley send PEER TEXT</c>: sends one message and returns once the server has it durably (SENT).</summary>
internal static class SendCommand
{
    /// <summary>How long send waits for SENT; after that the message stays in the outbox for the next run.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user to send to" };
        var text = new Argument<string>("text") { Description = "The message text" };
        var command = new Command("send", "Send a message; prints its id once the server has stored it (one tick)")
        {
            peer, text,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var to = parse.GetValue(peer)!;
            if (!UserName.IsValid(to))
            {
                return ctx.Output.Error(ExitCodes.Usage, $"not a user name: {to}", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(SendTimeout);
            string id;
            try
            {
                id = await client.SendTextAsync(to, parse.GetValue(text)!, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return ctx.Output.Error(ExitCodes.Server, "the server did not confirm the message in time; it stays in the outbox and is sent on the next run", "unavailable");
            }
            ctx.Output.Result(new { id, status = "sent" }, $"[grey]✓[/] sent {id}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
