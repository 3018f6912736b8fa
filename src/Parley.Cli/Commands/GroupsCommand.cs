using System.CommandLine;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary><c>parley groups</c>: every group this account is in, as the server has them (one JSON line each with --json).</summary>
internal static class GroupsCommand
{
    public static Command Create()
    {
        var command = new Command("groups", "List the groups you are in: id, title, members");
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            foreach (var g in await client.ListGroupsAsync(ct))
            {
                var admin = g.Members.Any(m => m.User == client.Credentials.User && m.IsAdmin);
                ctx.Output.Result(new { group_id = g.Id, title = g.Title, members = g.Members.Count, admin },
                    $"[bold]{Markup.Escape(g.Title.Length > 0 ? g.Title : "(no title yet)")}[/] {g.Members.Count} member(s){(admin ? " [yellow](admin)[/]" : "")} [grey]{g.Id}[/]");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
