using System.CommandLine;
using QRCoder;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley safety-number PEER</c>: the 60-digit safety number of the conversation with PEER (the
/// same digits on both sides while neither identity key changes), in groups of five, with a QR code
/// of the digits for scanning. With --json: <c>{"peer":…,"safety_number":"…"}</c>.
/// </summary>
internal static class SafetyNumberCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The other user of the conversation" };
        var command = new Command("safety-number", "Show the safety number with a user, to compare in person or over a trusted channel")
        {
            peer,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (!TypedUserName.TryRead(ctx, parse.GetValue(peer)!, out var who))
            {
                return ExitCodes.Usage;
            }
            await using var client = await ctx.ConnectAsync(ct);
            var digits = await client.GetSafetyNumberAsync(who, ct);
            if (ctx.Output.Json)
            {
                ctx.Output.Result(new { peer = who, safety_number = digits, verified = client.IsVerified(who) }, "");
                return ExitCodes.Ok;
            }
            var groups = string.Join(' ', Enumerable.Range(0, digits.Length / 5).Select(i => digits.Substring(i * 5, 5)));
            AnsiConsole.MarkupLine($"Safety number with [bold]{Markup.Escape(who)}[/]{(client.IsVerified(who) ? " [green](verified)[/]" : "")}:");
            AnsiConsole.WriteLine();
            AnsiConsole.WriteLine("  " + groups[..35]);
            AnsiConsole.WriteLine("  " + groups[36..]);
            AnsiConsole.WriteLine();
            using var generator = new QRCodeGenerator();
            using var data = generator.CreateQrCode(digits, QRCodeGenerator.ECCLevel.M);
            using var qr = new AsciiQRCode(data);
            Console.Out.WriteLine(qr.GetGraphicSmall(drawQuietZones: true, invert: false, endOfLine: "\n"));
            AnsiConsole.MarkupLine($"[grey]If {Markup.Escape(who)} sees the same digits, run `parley verify {Markup.Escape(who)}`.[/]");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
