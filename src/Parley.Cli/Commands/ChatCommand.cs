using System.CommandLine;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary><c>parley chat PEER</c>: an interactive conversation with live messages, ticks and typing.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user to chat with" };
        var command = new Command("chat", "Chat with someone: live messages, ticks (✓ sent, ✓✓ delivered, blue ✓✓ read), typing. Esc or Ctrl+C quits.")
        {
            peer,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (!TypedUserName.TryRead(ctx, parse.GetValue(peer)!, out var with))
            {
                return ExitCodes.Usage;
            }
            // A chat stays open for long: when a one-shot command of the same profile (send, read)
            // briefly takes the device's connection, take it back a few seconds later.
            await using var client = await ctx.ConnectAsync(ct, new ParleyClientOptions { ReplacedRetryDelay = TimeSpan.FromSeconds(3) }, flushOutbox: false);
            if (with == client.Credentials.User)
            {
                return ctx.Output.Error(ExitCodes.Usage, "chat with another user; your other devices see what you send", "usage");
            }
            var screen = new ChatScreen(client, with, ctx.Output);
            var interactive = !ctx.Output.Json && !Console.IsInputRedirected && !Console.IsOutputRedirected;
            return interactive ? await screen.RunInteractiveAsync(ct) : await screen.RunLinesAsync(ct);
        }));
        return command;
    }
}
