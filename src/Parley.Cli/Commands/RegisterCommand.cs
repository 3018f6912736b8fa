using System.CommandLine;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley register --server URL --user NAME [--code CODE] [--invite TOKEN]</c>: creates an account for this profile.</summary>
internal static class RegisterCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "Server address, e.g. http://127.0.0.1:8080", Required = true, HelpName = "URL" };
        var user = new Option<string>("--user") { Description = "User name: 3-32 lowercase letters a-z, digits 0-9, _ . -, starting with a letter (capitals are taken as lower case)", Required = true, HelpName = "NAME" };
        var code = new Option<string?>("--code") { Description = "Verification code (servers with policy 'code')", HelpName = "CODE" };
        var invite = new Option<string?>("--invite") { Description = "Invite token (servers with policy 'invite')", HelpName = "TOKEN" };
        var requestCode = new Option<bool>("--request-code") { Description = "Only ask the server to send a verification code, then register again with --code" };
        var deviceName = new Option<string?>("--device-name") { Description = "A name for this device", HelpName = "NAME" };
        var command = new Command("register", "Create an account; this profile becomes its first device")
        {
            server, user, code, invite, requestCode, deviceName,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(server), UriKind.Absolute, out var serverUri)
                || (serverUri.Scheme != Uri.UriSchemeHttp && serverUri.Scheme != Uri.UriSchemeHttps))
            {
                return ctx.Output.Error(ExitCodes.Usage, "--server must be an http:// or https:// address", "usage");
            }
            if (ParleyClient.ServerAddressProblem(serverUri) is { } problem)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"--server {problem}", "usage");
            }
            if (!TypedUserName.TryRead(ctx, parse.GetValue(user)!, out var name))
            {
                return ExitCodes.Usage;
            }
            if (parse.GetValue(requestCode))
            {
                await ParleyClient.RequestVerificationCodeAsync(serverUri, name, ct);
                ctx.Output.Result(new { user = name, code_requested = true }, $"A code for [bold]{Markup.Escape(name)}[/] is on its way; run register again with --code.");
                return ExitCodes.Ok;
            }
            await using var client = await ParleyClient.RegisterAsync(ctx.ProfileDir, serverUri, name,
                parse.GetValue(code), parse.GetValue(invite), parse.GetValue(deviceName), ctx.ClientOptions(), ct);
            var c = client.Credentials;
            ctx.Output.Result(
                new { user = c.User, device_id = c.DeviceId, server = c.Server.ToString(), profile = ctx.ProfileDir },
                $"Registered [bold]{Markup.Escape(c.User)}[/] (device {c.DeviceId}) on {Markup.Escape(c.Server.ToString())}; profile {Markup.Escape(ctx.ProfileDir)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
