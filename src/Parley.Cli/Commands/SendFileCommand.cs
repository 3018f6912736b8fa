using System.CommandLine;
using Parley.Client;
using Parley.Protocol;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley send-file PEER PATH [--caption TEXT]</c>: encrypts and uploads a file with a progress
/// bar, then sends the pointer message and returns once the server has it (SENT). Run again after
/// an interruption, it continues the upload from the server's offset.
/// </summary>
internal static class SendFileCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user to send to" };
        var path = new Argument<string>("path") { Description = "The file to send (at most 100 MiB)" };
        var caption = new Option<string?>("--caption") { Description = "Text shown with the file", HelpName = "TEXT" };
        var command = new Command("send-file", "Send a file end-to-end encrypted; prints the message id once the server has it (one tick)")
        {
            peer, path, caption,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var to = parse.GetValue(peer)!;
            if (!UserName.IsValid(to))
            {
                return ctx.Output.Error(ExitCodes.Usage, $"not a user name: {to}", "usage");
            }
            var file = new FileInfo(parse.GetValue(path)!);
            if (!file.Exists)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"no such file: {file.FullName}", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            var id = await TransferDisplay.RunAsync(ctx.Output, client, file.Name,
                () => client.SendFileAsync(to, file.FullName, parse.GetValue(caption), cancellationToken: ct));
            ctx.Output.Result(new { id, status = "sent", file = file.FullName, size = file.Length },
                $"[grey]✓[/] sent {Markup.Escape(file.Name)} ({TransferDisplay.Size(file.Length)}) {id}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
