using System.Buffers.Text;
using System.CommandLine;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley push subscribe|status|unsubscribe</c>: sets, shows or removes this device's push
/// subscription (Web Push / UnifiedPush endpoint, or a push gateway URL and token).
/// </summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var command = new Command("push", "Manage how the server wakes this device when it is offline (Web Push, UnifiedPush, a push gateway)")
        {
            Subscribe(), Status(), Unsubscribe(),
        };
        return command;
    }

    private static Command Subscribe()
    {
        var webpush = new Option<string?>("--webpush") { Description = "Web Push or UnifiedPush endpoint URL (https)", HelpName = "ENDPOINT" };
        var p256dh = new Option<string?>("--p256dh") { Description = "The subscription's p256dh key, base64 or base64url (65 bytes)", HelpName = "B64" };
        var auth = new Option<string?>("--auth") { Description = "The subscription's auth secret, base64 or base64url (16 bytes)", HelpName = "B64" };
        var gateway = new Option<string?>("--gateway") { Description = "Push gateway URL (https)", HelpName = "URL" };
        var token = new Option<string?>("--token") { Description = "The device token the gateway knows this device by", HelpName = "T" };
        var command = new Command("subscribe", "Set this device's push subscription, replacing any other")
        {
            webpush, p256dh, auth, gateway, token,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var (endpoint, gatewayUrl) = (parse.GetValue(webpush), parse.GetValue(gateway));
            if ((endpoint is null) == (gatewayUrl is null))
            {
                return ctx.Output.Error(ExitCodes.Usage, "give either --webpush ENDPOINT --p256dh B64 --auth B64, or --gateway URL --token T", "usage");
            }
            if (!Uri.TryCreate(endpoint ?? gatewayUrl, UriKind.Absolute, out var url))
            {
                return ctx.Output.Error(ExitCodes.Usage, "the push URL must be an absolute https:// address", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            if (endpoint is not null)
            {
                if (Decode(parse.GetValue(p256dh)) is not { } key || Decode(parse.GetValue(auth)) is not { } secret)
                {
                    return ctx.Output.Error(ExitCodes.Usage, "--webpush needs --p256dh and --auth, in base64 or base64url", "usage");
                }
                await client.SetWebPushAsync(url, key, secret, ct);
            }
            else
            {
                if (string.IsNullOrEmpty(parse.GetValue(token)))
                {
                    return ctx.Output.Error(ExitCodes.Usage, "--gateway needs --token", "usage");
                }
                await client.SetPushGatewayAsync(url, parse.GetValue(token)!, ct);
            }
            var kind = endpoint is null ? "gateway" : "webpush";
            ctx.Output.Result(new { subscribed = kind, url = url.AbsoluteUri }, $"Push: [bold]{kind}[/] {Markup.Escape(url.AbsoluteUri)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Show this device's push subscription and the server's VAPID public key");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            var info = await client.GetPushAsync(ct);
            var vapid = Base64Url.EncodeToString(info.VapidPublicKey);
            ctx.Output.Result(
                new { kind = info.Kind, url = info.Url, token = info.Token, vapid_public_key = vapid },
                info.Kind == "none"
                    ? $"Push: [grey]none[/]\nServer VAPID key: {vapid}"
                    : $"Push: [bold]{info.Kind}[/] {Markup.Escape(info.Url ?? "")}\nServer VAPID key: {vapid}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Unsubscribe()
    {
        var command = new Command("unsubscribe", "Remove this device's push subscription");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            await client.RemovePushAsync(ct);
            ctx.Output.Result(new { subscribed = "none" }, "Push: [grey]none[/]");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Browsers hand out keys in base64url; other tools in standard base64. Null when neither.</summary>
    private static byte[]? Decode(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        var url = text.TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return Base64Url.IsValid(url) ? Base64Url.DecodeFromChars(url) : null;
    }
}
