using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley devices</c>: lists the devices of this profile's account, marking this one.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the devices of your account: id, name, when added, last seen (this device is marked). With --json: one line per device");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            var devices = await client.GetAccountDevicesAsync(ct);
            if (ctx.Output.Json)
            {
                foreach (var d in devices)
                {
                    ctx.Output.Result(new { id = d.Id, name = d.Name, added_at = d.AddedAt, last_seen = d.LastSeen, online = d.Online, this_device = d.IsThisDevice }, "");
                }
            }
            else
            {
                var table = new Table().AddColumn("id").AddColumn("name").AddColumn("added").AddColumn("last seen").AddColumn("here");
                foreach (var d in devices)
                {
                    table.AddRow(
                        d.Id.ToString(CultureInfo.InvariantCulture),
                        Markup.Escape(TerminalText.Printable(d.Name)),
                        When(d.AddedAt),
                        d.Online ? "online" : d.LastSeen == 0 ? "-" : When(d.LastSeen),
                        d.IsThisDevice ? "this device" : "");
                }
                AnsiConsole.MarkupLine($"Devices of [bold]{Markup.Escape(client.Credentials.User)}[/]:");
                AnsiConsole.Write(table);
            }
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<uint>("id") { Description = "The id of the device to remove (see parley devices)" };
        var command = new Command("remove", "Remove a device: its credentials stop working, its queue is deleted and contacts stop encrypting to it. Allowed from the primary device, or from the device itself (not_primary otherwise)");
        command.Arguments.Add(id);
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var deviceId = parse.GetValue(id);
            await using var client = await ctx.ConnectAsync(ct);
            await client.RemoveDeviceAsync(deviceId, ct);
            ctx.Output.Result(new { removed = deviceId }, $"Device {deviceId} removed.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string When(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
