using System.CommandLine;
using Parley.Protocol;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley presence visibility everyone|contacts|nobody</c>: who may see this account online
/// (stored by the server for every device of the account; contacts is the server's default).
/// </summary>
internal static class PresenceCommand
{
    private static readonly Dictionary<string, PresenceVisibility> Choices = new(StringComparer.Ordinal)
    {
        ["everyone"] = PresenceVisibility.Everyone,
        ["contacts"] = PresenceVisibility.Contacts,
        ["nobody"] = PresenceVisibility.Nobody,
    };

    public static Command Create() => new("presence", "Presence privacy: who may see when you are online") { Visibility() };

    private static Command Visibility()
    {
        var who = new Argument<string>("who") { Description = "everyone, contacts (people you have sent a message to; the default) or nobody" };
        who.AcceptOnlyFromAmong([.. Choices.Keys]);
        var command = new Command("visibility", "Set who may see when you are online, for every device of your account") { who };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var name = parse.GetValue(who)!;
            await using var client = await ctx.ConnectAsync(ct);
            await client.SetPresenceVisibilityAsync(Choices[name], ct);
            ctx.Output.Result(new { visibility = name }, $"Presence visible to: [bold]{name}[/]");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
