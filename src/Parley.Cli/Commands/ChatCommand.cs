using System.CommandLine;
using Parley.Client;

namespace Parley.Cli.Commands;

/// <summary><c>parley chat PEER</c>: an interactive conversation with live messages, ticks and typing.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var peer = new Argument<string?>("peer") { Description = "The user to chat with", Arity = ArgumentArity.ZeroOrOne };
        var group = new Option<string?>("--group") { Description = "Chat in this group (its id or title) instead: ✓✓ once every member device has a message, blue once every member read it", HelpName = "GROUP" };
        var command = new Command("chat", "Chat with someone: live messages, ticks (✓ sent, ✓✓ delivered, blue ✓✓ read), typing. Esc or Ctrl+C quits.")
        {
            peer, group,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (parse.GetValue(group) is { } typedGroup)
            {
                if (parse.GetValue(peer) is not null)
                {
                    return ctx.Output.Error(ExitCodes.Usage, "give a user or --group GROUP, not both", "usage");
                }
                await using var groupClient = await ctx.ConnectAsync(ct, new ParleyClientOptions { ReplacedRetryDelay = TimeSpan.FromSeconds(3) }, flushOutbox: false);
                await groupClient.SyncAsync(ct);
                var groupId = TypedGroup.Resolve(groupClient, typedGroup);
                var info = await groupClient.GetGroupAsync(groupId, ct);
                if (!info.IsMember)
                {
                    return ctx.Output.Error(ExitCodes.Server, "you are not a member of that group", "not_a_member");
                }
                var groupScreen = new ChatScreen(groupClient, "#" + groupId, ctx.Output, groupId);
                var groupInteractive = !ctx.Output.Json && !Console.IsInputRedirected && !Console.IsOutputRedirected;
                return groupInteractive ? await groupScreen.RunInteractiveAsync(ct) : await groupScreen.RunLinesAsync(ct);
            }
            if (parse.GetValue(peer) is not { } typedPeer)
            {
                return ctx.Output.Error(ExitCodes.Usage, "give the user to chat with, or --group GROUP", "usage");
            }
            if (!TypedUserName.TryRead(ctx, typedPeer, out var with))
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
