using System.CommandLine;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley link request</c> / <c>parley link approve CODE</c>: linking by code through the server
/// (see the subcommands). <c>parley link --profile NEWDIR --from PRIMARY</c> stays for scripts and
/// tests on one machine: it needs the primary's profile folder, which signs the new device list.
/// </summary>
internal static class LinkCommand
{
    public static Command Create()
    {
        var from = new Option<string?>("--from") { Description = "Profile folder of the account's primary device, on this machine (else use `link request` and `link approve`)", HelpName = "DIR" };
        var deviceName = new Option<string?>("--device-name") { Description = "A name for the new device", HelpName = "NAME" };
        var command = new Command("link", "Link a new device: `link request` on the new one, `link approve CODE` on the primary (or --from PRIMARY on one machine)")
        {
            from, deviceName, LinkRequestCommand.Create(), LinkApproveCommand.Create(),
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (parse.GetValue(from) is not { } fromDir)
            {
                return ctx.Output.Error(ExitCodes.Usage, "use `parley link request --server URL` on the new device and `parley link approve CODE` on the primary (or --from PRIMARY_PROFILE on one machine)", "usage");
            }
            var existingDir = Path.GetFullPath(fromDir);
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
