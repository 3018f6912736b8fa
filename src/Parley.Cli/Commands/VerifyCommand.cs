using System.CommandLine;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley verify PEER</c>: marks PEER's current identity key verified (after comparing safety
/// numbers). If that key changes later, sends to PEER are refused until the change is accepted;
/// after a change, running <c>verify</c> again (having compared the new number) accepts and verifies the new key.
/// <c>--clear</c> removes the mark. Either way the account's other devices follow (an encrypted sync message).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("peer") { Description = "The user whose safety number you compared" };
        var clear = new Option<bool>("--clear") { Description = "Remove the verified mark instead (on every device of this account)" };
        var command = new Command("verify", "Mark a user's identity verified (compare `parley safety-number` first); every device of this account follows")
        {
            peer,
            clear,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (!TypedUserName.TryRead(ctx, parse.GetValue(peer)!, out var who))
            {
                return ExitCodes.Usage;
            }
            await using var client = await ctx.ConnectAsync(ct);
            if (parse.GetValue(clear))
            {
                await client.ClearVerifiedAsync(who, ct);
                ctx.Output.Result(new { peer = who, verified = false }, $"{Markup.Escape(who)} is no longer marked verified");
                return ExitCodes.Ok;
            }
            var changed = client.HasUnacceptedIdentityChange(who);
            if (changed)
            {
                await client.AcceptIdentityAsync(who, ct);
            }
            await client.MarkVerifiedAsync(who, ct);
            var digits = await client.GetSafetyNumberAsync(who, ct);
            ctx.Output.Result(
                new { peer = who, verified = true, accepted_change = changed, safety_number = digits },
                $"[green]✓[/] {Markup.Escape(who)} is verified{(changed ? " (the new key is accepted)" : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
