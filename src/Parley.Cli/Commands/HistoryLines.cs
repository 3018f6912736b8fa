using System.Globalization;
using Parley.Client.History;
using Parley.Client.Media;

namespace Parley.Cli.Commands;

/// <summary>
/// Prints a link's history progress as lines on stderr, in both output modes (stdout keeps the one
/// result line, JSON or text): "history: sent 2/5 chunks (812/2100 messages)".
/// </summary>
internal sealed class HistoryLines : IProgress<HistoryProgress>
{
    /// <summary>Largest --history-days: ten years is more than any store holds, and keeps the window a valid date.</summary>
    public const int MaxDays = 3650;

    /// <summary>Writes the line for one report.</summary>
    public void Report(HistoryProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var upload = value.Direction == TransferDirection.Upload;
        var line = value switch
        {
            { Failure: { } failure } => $"history: {failure} ({value.MessagesDone} messages {(upload ? "sent" : "stored")} so far)",
            { Chunks: 0 } => "history: no messages to send",
            { ChunksDone: 0 } => upload
                ? $"history: sending {value.Messages} messages in {value.Chunks} chunks"
                : $"history: receiving {value.Messages} messages in {value.Chunks} chunks",
            { Done: true } => upload
                ? $"history: sent {value.MessagesDone} messages"
                : $"history: stored {value.MessagesDone} messages",
            _ => string.Create(CultureInfo.InvariantCulture,
                $"history: {(upload ? "sent" : "stored")} {value.ChunksDone}/{value.Chunks} chunks ({value.MessagesDone}/{value.Messages} messages)"),
        };
        Console.Error.WriteLine(line);
    }
}
