using System.CommandLine;
using Parley.Client;
using Parley.Client.Groups;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley group create|add|remove|promote|demote|leave|info|invite|join|requests|approve|deny</c>: group membership. The server
/// keeps members and roles; the title travels end-to-end encrypted between the members. GROUP is
/// the id printed by <c>group create</c> or the title of a group this device knows.
/// </summary>
internal static class GroupCommand
{
    public static Command Create()
    {
        var command = new Command("group", "Create and manage groups (up to 1,024 members): the title is end-to-end encrypted; the server only knows members and roles");
        command.Subcommands.Add(CreateCommand());
        command.Subcommands.Add(ChangeCommand("add", "Add a member (admins only); the member can read what is sent from now on", (c, g, u, ct) => c.AddGroupMemberAsync(g, u, ct)));
        command.Subcommands.Add(ChangeCommand("remove", "Remove a member (admins only); every member's next message uses a new sender key the removed member cannot read",
            (c, g, u, ct) => c.RemoveGroupMemberAsync(g, u, ct)));
        command.Subcommands.Add(ChangeCommand("promote", "Make a member an admin (admins only)", (c, g, u, ct) => c.PromoteGroupMemberAsync(g, u, ct)));
        command.Subcommands.Add(ChangeCommand("demote", "Make an admin a plain member (admins only)", (c, g, u, ct) => c.DemoteGroupMemberAsync(g, u, ct)));
        command.Subcommands.Add(LeaveCommand());
        command.Subcommands.Add(InfoCommand());
        command.Subcommands.Add(GroupInviteCommands.Invite());
        command.Subcommands.Add(GroupInviteCommands.Join());
        command.Subcommands.Add(GroupInviteCommands.Requests());
        command.Subcommands.Add(ChangeCommand("approve", "Let in a user who asked to join by a link that needs approval (admins only); it gets the title from you",
            (c, g, u, ct) => c.ApproveJoinRequestAsync(g, u, ct)));
        command.Subcommands.Add(ChangeCommand("deny", "Turn away a user who asked to join (admins only); it is told so", (c, g, u, ct) => c.DenyJoinRequestAsync(g, u, ct)));
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Argument<string>("name") { Description = "The group's title (end-to-end encrypted: the server never sees it)" };
        var members = new Option<string?>("--members") { Description = "Comma-separated user names to add", HelpName = "a,b,c" };
        var command = new Command("create", "Create a group with you as its admin; prints its id") { name, members };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var users = new List<string>();
            foreach (var typed in (parse.GetValue(members) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!TypedUserName.TryRead(ctx, typed, out var user))
                {
                    return ExitCodes.Usage;
                }
                users.Add(user);
            }
            await using var client = await ctx.ConnectAsync(ct);
            var group = await client.CreateGroupAsync(parse.GetValue(name)!, users, ct);
            ctx.Output.Result(new { group_id = group.Id, title = group.Title, members = group.Members.Select(m => m.User) },
                $"created [bold]{Markup.Escape(group.Title)}[/] with {group.Members.Count} member(s): {group.Id}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ChangeCommand(string verb, string description, Func<ParleyClient, string, string, CancellationToken, Task<GroupInfo>> change)
    {
        var group = new Argument<string>("group") { Description = "The group's id or title" };
        var user = new Argument<string>("user") { Description = "The member concerned" };
        var command = new Command(verb, description) { group, user };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (!TypedUserName.TryRead(ctx, parse.GetValue(user)!, out var who))
            {
                return ExitCodes.Usage;
            }
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var info = await change(client, TypedGroup.Resolve(client, parse.GetValue(group)!), who, ct);
            Print(ctx, info, $"{verb}: {Markup.Escape(who)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command LeaveCommand()
    {
        var group = new Argument<string>("group") { Description = "The group's id or title" };
        var command = new Command("leave", "Leave a group; when the last admin leaves, the longest-standing member becomes admin") { group };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var info = await client.LeaveGroupAsync(TypedGroup.Resolve(client, parse.GetValue(group)!), ct);
            Print(ctx, info, "left");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command InfoCommand()
    {
        var group = new Argument<string>("group") { Description = "The group's id or title" };
        var command = new Command("info", "Show a group's title, members and roles as the server has them now") { group };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var info = await client.GetGroupAsync(TypedGroup.Resolve(client, parse.GetValue(group)!), ct);
            Print(ctx, info, null);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>One group as a JSON line (id, title, version, whether we are in it, members with roles) or a short table.</summary>
    public static void Print(CliContext ctx, GroupInfo info, string? change)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(info);
        var members = info.Members.Select(m => new { user = m.User, role = m.IsAdmin ? "admin" : "member", joined_at = CliOutput.Time(m.JoinedAt) });
        var lines = string.Join("\n", info.Members.Select(m => $"  {Markup.Escape(m.User)}{(m.IsAdmin ? " [yellow](admin)[/]" : "")}"));
        var head = change is null ? "" : change + "\n";
        ctx.Output.Result(new { group_id = info.Id, title = info.Title, version = info.Version, member = info.IsMember, members },
            $"{head}[bold]{Markup.Escape(info.Title.Length > 0 ? info.Title : "(no title yet)")}[/] [grey]{info.Id} v{info.Version}[/]\n{lines}");
    }
}
