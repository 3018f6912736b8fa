using System.CommandLine;
using System.Threading.Channels;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley receive [--wait SECONDS]</c>: drains the server queue, prints every message not printed
/// before (across runs), then keeps printing live messages for up to SECONDS more. Copies of what
/// this account sent from its other devices are printed too, as "you → PEER". A device linked to or
/// removed from the account prints a notice line on stderr.
/// </summary>
internal static class ReceiveCommand
{
    public static Command Create()
    {
        var wait = new Option<double>("--wait") { Description = "Seconds to keep listening for live messages after the queue is drained", DefaultValueFactory = _ => 0, HelpName = "SECONDS" };
        var mediaDir = new Option<string?>("--media-dir") { Description = "Folder for received files (default: the profile's media/)", HelpName = "DIR" };
        var command = new Command("receive", "Print new messages (each one once), then optionally wait for more; files are downloaded and verified")
        {
            wait, mediaDir,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var seconds = parse.GetValue(wait);
            if (seconds < 0 || double.IsNaN(seconds))
            {
                return ctx.Output.Error(ExitCodes.Usage, "--wait must be zero or more seconds", "usage");
            }
            var media = parse.GetValue(mediaDir);
            await using var client = await ctx.ConnectAsync(ct);
            var arrived = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
            client.MessageReceived += (_, _) => arrived.Writer.TryWrite(true);
            // For people (stderr); JSON output stays one line per message.
            client.IdentityChanged += (_, e) => ctx.Output.Note("warning: " + e.Warning);
            client.AccountDeviceChanged += (_, e) => ctx.Output.Note("notice: " + TerminalText.Printable(e.Notice));
            await client.SyncAsync(ct);
            await PrintAsync(ctx.Output, client, media, ct);

            using var listen = CancellationTokenSource.CreateLinkedTokenSource(ct);
            listen.CancelAfter(TimeSpan.FromSeconds(seconds));
            try
            {
                while (await arrived.Reader.WaitToReadAsync(listen.Token))
                {
                    arrived.Reader.TryRead(out _);
                    await PrintAsync(ctx.Output, client, media, ct);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // --wait is over.
            }
            await PrintAsync(ctx.Output, client, media, ct);
            // The title for members who joined by this device's link goes before exit (else at the next connect).
            using (var welcomes = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                welcomes.CancelAfter(CliContext.ConnectTimeout);
                try
                {
                    await client.FlushGroupWelcomesAsync(welcomes.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    ctx.Output.Note("the group title for a member who joined is not sent yet; it stays in the outbox");
                }
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task PrintAsync(CliOutput output, ParleyClient client, string? mediaDir, CancellationToken cancellationToken)
    {
        foreach (var m in client.TakeUnshownMessages())
        {
            if (client.FindAttachment(m.Id) is not null)
            {
                await ReceivedFile.SaveAsync(output, client, m, mediaDir, cancellationToken);
                continue;
            }
            if (m.GroupId is { } groupId)
            {
                var name = TypedGroup.Name(client, m.Peer);
                var mine = m.Direction == MessageDirection.Outgoing;
                output.Result(
                    new { id = m.Id, from = m.Sender, group_id = groupId, group = name, direction = mine ? "outgoing" : "incoming", text = m.Text, sent_at = CliOutput.Time(m.SentAt) },
                    $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(mine ? "you" : m.Sender)} @ {Markup.Escape(TerminalText.Printable(name))}[/]: {Markup.Escape(TerminalText.Printable(m.Text))} [grey]({m.Id})[/]");
                continue;
            }
            // A copy of what this account sent from another device: shown as ours, toward the peer.
            var outgoing = m.Direction == MessageDirection.Outgoing;
            var who = outgoing ? $"you → {Markup.Escape(m.Peer)}" : Markup.Escape(m.Sender);
            output.Result(
                new { id = m.Id, from = m.Sender, to = outgoing ? m.Peer : client.Credentials.User, direction = outgoing ? "outgoing" : "incoming", text = m.Text, sent_at = CliOutput.Time(m.SentAt) },
                $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{who}[/]: {Markup.Escape(TerminalText.Printable(m.Text))} [grey]({m.Id})[/]");
        }
    }
}
