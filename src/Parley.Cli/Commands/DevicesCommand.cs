using System.CommandLine;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley devices</c>: lists the devices of this profile's account.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the devices of your account");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            var me = client.Credentials;
            var devices = await client.GetDevicesAsync(me.User, ct);
            if (ctx.Output.Json)
            {
                ctx.Output.Result(new { user = me.User, devices, this_device = me.DeviceId }, "");
            }
            else
            {
                var table = new Table().AddColumn("device").AddColumn("here");
                foreach (var d in devices)
                {
                    table.AddRow(d.ToString(System.Globalization.CultureInfo.InvariantCulture), d == me.DeviceId ? "this device" : "");
                }
                AnsiConsole.MarkupLine($"Devices of [bold]{Markup.Escape(me.User)}[/]:");
                AnsiConsole.Write(table);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
