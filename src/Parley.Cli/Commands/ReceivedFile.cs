using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>Downloads a received attachment with progress and prints one result line with the saved path.</summary>
internal static class ReceivedFile
{
    /// <summary>Saves the attachment of <paramref name="m"/>; a blob that fails verification is reported, never saved.</summary>
    public static async Task SaveAsync(CliOutput output, ParleyClient client, StoredMessage m, string? mediaDir, CancellationToken cancellationToken)
    {
        var file = client.FindAttachment(m.Id)!;
        string path;
        try
        {
            path = await TransferDisplay.RunAsync(output, client, file.FileName,
                () => client.DownloadAttachmentAsync(m.Id, mediaDir, cancellationToken));
        }
        catch (ParleyException e) when (e.ApiCode is "bad_attachment" or "not_found" || e.Code == Parley.Protocol.ErrorCode.NotFound)
        {
            output.Result(
                new { id = m.Id, from = m.Sender, file = file.FileName, size = file.Size, error = e.Message, code = e.ApiCode ?? "not_found" },
                $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(m.Sender)}[/]: [red]✗ [[{Markup.Escape(file.FileName)}, {TransferDisplay.Size(file.Size)}]] not saved: {Markup.Escape(e.Message)}[/]");
            return;
        }
        var line = $"[[{Markup.Escape(file.FileName)}, {TransferDisplay.Size(file.Size)}]] {Markup.Escape(path)}"
            + (m.Text.Length > 0 ? $" {Markup.Escape(TerminalText.Printable(m.Text))}" : "") + $" [grey]({m.Id})[/]";
        if (m.GroupId is { } groupId)
        {
            // As group texts are shown: the sender (or you) at the group's name.
            var name = TypedGroup.Name(client, m.Peer);
            var mine = m.Direction == MessageDirection.Outgoing;
            output.Result(
                new { id = m.Id, from = m.Sender, group_id = groupId, group = name, direction = mine ? "outgoing" : "incoming", text = m.Text, file = file.FileName, size = file.Size, content_type = file.ContentType, path, sent_at = CliOutput.Time(m.SentAt) },
                $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(mine ? "you" : m.Sender)} @ {Markup.Escape(TerminalText.Printable(name))}[/]: {line}");
            return;
        }
        output.Result(
            new { id = m.Id, from = m.Sender, text = m.Text, file = file.FileName, size = file.Size, content_type = file.ContentType, path, sent_at = CliOutput.Time(m.SentAt) },
            $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(m.Sender)}[/]: {line}");
    }
}
