using System.CommandLine;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley link --profile NEWDIR --from EXISTING</c>: adds a device to the account of an existing profile.</summary>
internal static class LinkCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Profile folder of a device already on the account", Required = true, HelpName = "DIR" };
        var deviceName = new Option<string?>("--device-name") { Description = "A name for the new device", HelpName = "NAME" };
        var command = new Command("link", "Add a new device (the --profile folder) to the account of the --from profile")
        {
            from, deviceName,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var existingDir = Path.GetFullPath(parse.GetValue(from)!);
            if (existingDir == ctx.ProfileDir)
            {
                return ctx.Output.Error(ExitCodes.Usage, "--profile must name a new folder for the new device, not the --from one", "usage");
            }
            if (!ParleyClient.IsRegistered(existingDir))
            {
                return ctx.Output.Error(ExitCodes.Usage, $"no account in profile {existingDir}", "usage");
            }
            await using var existing = ParleyClient.Open(existingDir, ctx.ClientOptions());
            await using var linked = await existing.LinkDeviceAsync(ctx.ProfileDir, parse.GetValue(deviceName), ct);
            var c = linked.Credentials;
            ctx.Output.Result(
                new { user = c.User, device_id = c.DeviceId, server = c.Server.ToString(), profile = ctx.ProfileDir },
                $"Linked device {c.DeviceId} to [bold]{Markup.Escape(c.User)}[/]; profile {Markup.Escape(ctx.ProfileDir)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
