using System.CommandLine;
using System.Text;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley send PEER TEXT|-</c> or <c>parley send PEER --file PATH</c>: stores the message in the
/// outbox first, then sends it and returns once the server has it durably (SENT). When the server
/// cannot be reached it stays queued (exit code 3) for the next command that connects.
/// </summary>
internal static class SendCommand
{
    /// <summary>How long send waits for SENT once connected; after that the message stays in the outbox for the next run.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most bytes read from stdin or a file: a guard against piping a disk image into a message, well
    /// above <see cref="ParleyClient.MaxTextBytes"/> so the SDK's check reports the real size.
    /// </summary>
    private const int MaxInputBytes = 16 * 1024 * 1024;

    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user to send to (with --group: the text, or -)" };
        var text = new Argument<string?>("text")
        {
            Description = $"The message text, or - to read it from stdin (at most {ParleyClient.MaxTextBytes:N0} bytes of UTF-8)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var file = new Option<string?>("--file") { Description = "Read the message text from this file (UTF-8)", HelpName = "PATH" };
        var group = new Option<string?>("--group") { Description = "Send to this group (its id or title) instead of one user: parley send --group GROUP TEXT", HelpName = "GROUP" };
        var command = new Command("send", "Send a message; prints its id once the server has stored it (one tick), or queues it (🕓, exit code 3) when the server cannot be reached")
        {
            peer, text, file, group,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var groupName = parse.GetValue(group);
            var to = "";
            var typed = parse.GetValue(text);
            if (groupName is not null)
            {
                if (typed is not null)
                {
                    return ctx.Output.Error(ExitCodes.Usage, "with --group, give only the text (or - for stdin, or --file PATH)", "usage");
                }
                // The one positional argument is the text; with --file there is none.
                typed = parse.GetValue(peer);
                if (parse.GetValue(file) is not null && typed is not null)
                {
                    return ctx.Output.Error(ExitCodes.Usage, "give the text, - to read it from stdin, or --file PATH (one of them)", "usage");
                }
            }
            else if (!TypedUserName.TryRead(ctx, parse.GetValue(peer)!, out to))
            {
                return ExitCodes.Usage;
            }
            var path = parse.GetValue(file);
            if ((typed is null) == (path is null))
            {
                return ctx.Output.Error(ExitCodes.Usage, "give the text, - to read it from stdin, or --file PATH (one of them)", "usage");
            }
            var body = path is not null ? await ReadFileAsync(path, ct)
                : typed == "-" ? await ReadAsync(Console.OpenStandardInput(), "stdin", ct)
                : typed!;

            await using var client = ctx.OpenClient();
            // In the outbox before the network is touched: from here on the message cannot be lost.
            var id = groupName is null ? client.QueueText(to, body) : await QueueGroupAsync(client, groupName, body, ct);
            try
            {
                await CliContext.ConnectAsync(client, giveUpAtFirstFailure: true, ct);
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
                return Queued(ctx, id, e.Message);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(SendTimeout);
            try
            {
                await client.WaitUntilSentAsync(id, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return Queued(ctx, id, "the server did not confirm it in time");
            }
            ctx.Output.Result(new { id, status = "sent" }, $"[grey]✓[/] sent {id}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Queues a group text; a group this device has not seen yet (added while away) is looked up on the server first.</summary>
    private static async Task<string> QueueGroupAsync(ParleyClient client, string typedGroup, string body, CancellationToken cancellationToken)
    {
        ParleyClient.CheckText(body);
        if (Client.Groups.GroupConversation.ParseId(typedGroup) is null || client.FindGroup(typedGroup) is not { IsMember: true })
        {
            await CliContext.ConnectAsync(client, giveUpAtFirstFailure: false, cancellationToken);
            await client.SyncAsync(cancellationToken);
            if (Client.Groups.GroupConversation.ParseId(typedGroup) is not null && client.FindGroup(typedGroup) is not { IsMember: true })
            {
                await client.GetGroupAsync(typedGroup, cancellationToken);
            }
        }
        return client.QueueGroupText(TypedGroup.Resolve(client, typedGroup), body);
    }

    private static int Queued(CliContext ctx, string id, string why)
    {
        ctx.Output.Result(new { id, status = "pending" }, $"{CliContext.Pending} queued {id}");
        ctx.Output.Note($"parley: not sent yet ({why}); it is kept in the outbox and sent by the next parley command that reaches the server, or `parley sync`");
        return ExitCodes.Queued;
    }

    private static async Task<string> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"no such file: {path}");
        }
        await using var stream = File.OpenRead(path);
        return await ReadAsync(stream, path, cancellationToken);
    }

    /// <summary>Reads UTF-8 text (bounded), dropping one final line break as `echo` and editors add it.</summary>
    private static async Task<string> ReadAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > MaxInputBytes)
            {
                throw new ArgumentException($"{source} holds over {MaxInputBytes / (1024 * 1024)} MiB; one message carries at most {ParleyClient.MaxTextBytes:N0} bytes of text. Nothing was stored or sent.");
            }
            buffer.Write(chunk, 0, n);
        }
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new ArgumentException($"{source} is not UTF-8 text. Nothing was stored or sent.");
        }
        text = text.TrimStart('\uFEFF');
        if (text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            return text[..^2];
        }
        return text.EndsWith('\n') ? text[..^1] : text;
    }
}
