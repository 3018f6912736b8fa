using System.Globalization;
using System.Text.Json;
using Parley.Client;
using Parley.Client.Media;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// Shows attachment transfers: a Spectre progress bar with rate and ETA for people, or JSON
/// progress lines on stderr with --json (stdout keeps one line per result).
/// </summary>
internal static class TransferDisplay
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Runs <paramref name="work"/> while showing the client's transfer progress.</summary>
    public static async Task<T> RunAsync<T>(CliOutput output, ParleyClient client, string label, Func<Task<T>> work)
    {
        if (output.Json)
        {
            int lastPercent = -1;
            void OnProgress(object? sender, TransferProgressEventArgs e)
            {
                int percent = e.TotalBytes == 0 ? 100 : (int)(e.BytesDone * 100 / e.TotalBytes);
                if (percent == Interlocked.Exchange(ref lastPercent, percent))
                {
                    return;
                }
                Console.Error.WriteLine(JsonSerializer.Serialize(new
                {
                    @event = "progress",
                    direction = e.Direction == TransferDirection.Upload ? "upload" : "download",
                    file = e.FileName,
                    bytes_done = e.BytesDone,
                    total_bytes = e.TotalBytes,
                    bytes_per_second = Math.Round(e.BytesPerSecond),
                    resumed_from = e.ResumedFrom,
                }, Json));
            }
            client.TransferProgress += OnProgress;
            try
            {
                return await work();
            }
            finally
            {
                client.TransferProgress -= OnProgress;
            }
        }
        if (Console.IsOutputRedirected)
        {
            return await work();
        }
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(Markup.Escape(label), maxValue: 1);
                void OnProgress(object? sender, TransferProgressEventArgs e)
                {
                    task.MaxValue = Math.Max(1, e.TotalBytes);
                    task.Value = e.TotalBytes == 0 ? 1 : e.BytesDone;
                }
                client.TransferProgress += OnProgress;
                try
                {
                    var result = await work();
                    task.Value = task.MaxValue;
                    return result;
                }
                finally
                {
                    client.TransferProgress -= OnProgress;
                }
            });
    }

    /// <summary>A size for people: 0 B, 512 B, 1.5 KiB, 20.0 MiB.</summary>
    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>How a message shows in lists: its text, or <c>[file name, size] path caption</c> for an attachment.</summary>
    public static string Describe(ParleyClient client, StoredMessage message)
    {
        if (client.FindAttachment(message.Id) is not { } file)
        {
            return message.Text;
        }
        var line = $"[{file.FileName}, {Size(file.Size)}]";
        if (file.SavedPath is { } path)
        {
            line += " " + path;
        }
        return file.Caption.Length > 0 ? $"{line} {file.Caption}" : line;
    }
}
