using System.CommandLine;
using Parley.Client;
using Parley.Protocol;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley send-file PEER PATH [--caption TEXT]</c> or <c>parley send-file --group GROUP PATH</c>:
/// encrypts and uploads a file with a progress bar, then sends the pointer message (for a group:
/// encrypted once with the sender key) and returns once the server has it (SENT). Run again after
/// an interruption, it continues the upload from the server's offset.
/// </summary>
internal static class SendFileCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user to send to (with --group: the file)" };
        var path = new Argument<string?>("path") { Description = "The file to send (at most 100 MiB)", Arity = ArgumentArity.ZeroOrOne };
        var caption = new Option<string?>("--caption") { Description = "Text shown with the file", HelpName = "TEXT" };
        var group = new Option<string?>("--group") { Description = "Send to this group (its id or title) instead of one user: parley send-file --group GROUP PATH", HelpName = "GROUP" };
        var command = new Command("send-file", "Send a file end-to-end encrypted; prints the message id once the server has it (one tick)")
        {
            peer, path, caption, group,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var groupName = parse.GetValue(group);
            var to = parse.GetValue(peer)!;
            var typedPath = parse.GetValue(path);
            if (groupName is not null)
            {
                // The one positional argument is the file.
                if (typedPath is not null)
                {
                    return ctx.Output.Error(ExitCodes.Usage, "with --group, give only the file: parley send-file --group GROUP PATH", "usage");
                }
                typedPath = to;
            }
            else if (!UserName.IsValid(to))
            {
                return ctx.Output.Error(ExitCodes.Usage, $"not a user name: {to}", "usage");
            }
            else if (typedPath is null)
            {
                return ctx.Output.Error(ExitCodes.Usage, "give the file to send: parley send-file PEER PATH", "usage");
            }
            var file = new FileInfo(typedPath);
            if (!file.Exists)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"no such file: {file.FullName}", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            var groupId = groupName is null ? null : await ResolveGroupAsync(client, groupName, ct);
            var id = await TransferDisplay.RunAsync(ctx.Output, client, file.Name, () => groupId is null
                ? client.SendFileAsync(to, file.FullName, parse.GetValue(caption), cancellationToken: ct)
                : client.SendGroupFileAsync(groupId, file.FullName, parse.GetValue(caption), cancellationToken: ct));
            if (groupId is null)
            {
                ctx.Output.Result(new { id, status = "sent", file = file.FullName, size = file.Length },
                    $"[grey]✓[/] sent {Markup.Escape(file.Name)} ({TransferDisplay.Size(file.Length)}) {id}");
            }
            else
            {
                var name = TypedGroup.Name(client, "#" + groupId);
                ctx.Output.Result(new { id, status = "sent", group_id = groupId, group = name, file = file.FullName, size = file.Length },
                    $"[grey]✓[/] sent {Markup.Escape(file.Name)} ({TransferDisplay.Size(file.Length)}) to {Markup.Escape(TerminalText.Printable(name))} {id}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The group's id; a group this device has not seen yet (added while away) is looked up on the server first.</summary>
    private static async Task<string> ResolveGroupAsync(ParleyClient client, string typedGroup, CancellationToken cancellationToken)
    {
        if (Client.Groups.GroupConversation.ParseId(typedGroup) is null || client.FindGroup(typedGroup) is not { IsMember: true })
        {
            await client.SyncAsync(cancellationToken);
            if (Client.Groups.GroupConversation.ParseId(typedGroup) is not null && client.FindGroup(typedGroup) is not { IsMember: true })
            {
                await client.GetGroupAsync(typedGroup, cancellationToken);
            }
        }
        return TypedGroup.Resolve(client, typedGroup);
    }
}
