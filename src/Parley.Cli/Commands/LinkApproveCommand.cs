using System.CommandLine;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley link approve CODE [--yes]</c>: on the primary device, shows who asks (name and key
/// fingerprint), asks for confirmation, and links the new device, sending it the history of the
/// last <c>--history-days</c> days (30 by default; progress lines on stderr).
/// </summary>
internal static class LinkApproveCommand
{
    public static Command Create()
    {
        var code = new Argument<string>("code") { Description = "The link code the new device shows" };
        var yes = new Option<bool>("--yes") { Description = "Approve without asking" };
        var historyDays = new Option<int>("--history-days")
        {
            Description = "Days of conversations the new device gets as history (0: none)", DefaultValueFactory = _ => 30, HelpName = "N",
        };
        var command = new Command("approve", "Link the new device that shows this code (run on your primary device)")
        {
            code, yes, historyDays,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var days = parse.GetValue(historyDays);
            if (days < 0 || days > HistoryLines.MaxDays)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"--history-days takes 0 to {HistoryLines.MaxDays} days", "usage");
            }
            await using var client = ctx.OpenClient(new ParleyClientOptions
            {
                HistoryWindow = TimeSpan.FromDays(days),
                HistoryProgress = new HistoryLines(),
            });
            var linkCode = parse.GetValue(code)!;
            var pending = await client.GetPendingLinkAsync(linkCode, ct);
            if (!parse.GetValue(yes))
            {
                if (ctx.Output.Json || Console.IsInputRedirected)
                {
                    Console.Error.WriteLine($"Link \"{pending.DeviceName}\" (key fingerprint {pending.Fingerprint})? [y/N]");
                }
                else
                {
                    AnsiConsole.MarkupLine($"Link the device [bold]{Markup.Escape(pending.DeviceName)}[/] with key fingerprint [bold]{pending.Fingerprint}[/]?");
                    AnsiConsole.MarkupLine("[grey]Check that the new device shows the same fingerprint.[/] [[y/N]]");
                }
                var answer = Console.ReadLine()?.Trim();
                if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
                {
                    return ctx.Output.Error(ExitCodes.Usage, "not approved", "declined");
                }
            }
            var deviceId = await client.ApproveLinkAsync(linkCode, ct);
            ctx.Output.Result(
                new { approved = true, device_id = deviceId, device_name = pending.DeviceName, fingerprint = pending.Fingerprint },
                $"Linked [bold]{Markup.Escape(pending.DeviceName)}[/] as device {deviceId}.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
