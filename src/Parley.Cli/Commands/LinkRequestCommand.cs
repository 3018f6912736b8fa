using System.CommandLine;
using Parley.Client;
using QRCoder;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley link request --server URL [--device-name NAME] [--wait S]</c>: on a new device, asks to
/// be linked; prints a link code (and its QR code), then waits until a device of the account approves it.
/// </summary>
internal static class LinkRequestCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "Server address, e.g. http://127.0.0.1:8080", Required = true, HelpName = "URL" };
        var deviceName = new Option<string?>("--device-name") { Description = "The name this device asks to be shown under", HelpName = "NAME" };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for the approval (at most until the code expires)", DefaultValueFactory = _ => 300, HelpName = "S" };
        var command = new Command("request", "Ask to link this profile as a new device: shows a code to approve on your primary device")
        {
            server, deviceName, wait,
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
            if (parse.GetValue(wait) <= 0)
            {
                return ctx.Output.Error(ExitCodes.Usage, "--wait takes a number of seconds above 0", "usage");
            }
            using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            waitCts.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(wait)));
            var request = await ParleyClient.RequestLinkAsync(ctx.ProfileDir, serverUri, parse.GetValue(deviceName), ctx.ClientOptions(new ParleyClientOptions { HistoryProgress = new HistoryLines() }), waitCts.Token);
            if (ctx.Output.Json)
            {
                ctx.Output.Result(new { link_code = request.Code, fingerprint = request.Fingerprint, expires_at = CliOutput.Time(request.ExpiresAt) }, "");
            }
            else
            {
                AnsiConsole.MarkupLine("On your primary device, run:");
                AnsiConsole.WriteLine();
                AnsiConsole.WriteLine($"  parley link approve {request.Code}");
                AnsiConsole.WriteLine();
                using var generator = new QRCodeGenerator();
                using var data = generator.CreateQrCode(request.Code, QRCodeGenerator.ECCLevel.M);
                using var qr = new AsciiQRCode(data);
                Console.Out.WriteLine(qr.GetGraphicSmall(drawQuietZones: true, invert: false, endOfLine: "\n"));
                AnsiConsole.MarkupLine($"Key fingerprint: [bold]{request.Fingerprint}[/] (the approving device shows the same)");
                AnsiConsole.MarkupLine($"[grey]The code works once, until {request.ExpiresAt.ToLocalTime():HH:mm:ss}. Waiting...[/]");
            }
            ParleyClient linked;
            try
            {
                linked = await request.Linked;
            }
            catch (OperationCanceledException) when (waitCts.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                return ctx.Output.Error(ExitCodes.Server, $"not approved within {parse.GetValue(wait)} s; ask again for a new code", "link_timeout");
            }
            await using (linked)
            {
                var c = linked.Credentials;
                ctx.Output.Result(
                    new { linked = true, user = c.User, device_id = c.DeviceId, server = c.Server.ToString(), profile = ctx.ProfileDir },
                    $"Linked as device {c.DeviceId} of [bold]{Markup.Escape(c.User)}[/]; profile {Markup.Escape(ctx.ProfileDir)}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
