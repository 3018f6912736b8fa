using System.CommandLine;
using Parley.Client.Groups;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley group invite|join|requests</c>: invite links. An admin makes the group's link (or
/// revokes it); whoever holds it joins, or asks to when joins need approval (<c>group approve</c>
/// and <c>group deny</c> answer, see <see cref="GroupCommand"/>).
/// </summary>
internal static class GroupInviteCommands
{
    public static Command Invite()
    {
        var group = new Argument<string>("group") { Description = "The group's id or title" };
        var approve = new Option<bool>("--approve") { Description = "Joins by this link wait for an admin's approval (parley group approve GROUP USER)" };
        var revoke = new Option<bool>("--revoke") { Description = "Revoke the group's link instead: joining by it fails from now on" };
        var command = new Command("invite", "Make the group's invite link and print it (admins only); a new link replaces the old one") { group, approve, revoke };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            if (parse.GetValue(revoke) && parse.GetValue(approve))
            {
                return ctx.Output.Error(ExitCodes.Usage, "--revoke and --approve do not go together", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var id = TypedGroup.Resolve(client, parse.GetValue(group)!);
            if (parse.GetValue(revoke))
            {
                await client.RevokeGroupInviteAsync(id, ct);
                ctx.Output.Result(new { group_id = id, revoked = true }, $"the invite link of {id} is revoked");
                return ExitCodes.Ok;
            }
            var link = await client.CreateGroupInviteAsync(id, parse.GetValue(approve), ct);
            ctx.Output.Result(new { group_id = id, link, approve = parse.GetValue(approve) },
                $"{Markup.Escape(link)}\n[grey]anyone with this link can {(parse.GetValue(approve) ? "ask to join (an admin approves)" : "join")}; any earlier link of this group no longer works[/]");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Join()
    {
        var link = new Argument<string>("link") { Description = $"An invite link ({GroupInviteLink.Scheme}…)" };
        var command = new Command("join", "Join a group by its invite link, or ask to when its admins approve joins") { link };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var text = parse.GetValue(link)!;
            if (!GroupInviteLink.TryParse(text, out _, out _))
            {
                return ctx.Output.Error(ExitCodes.Usage, $"not an invite link: they start with {GroupInviteLink.Scheme}", "usage");
            }
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var joined = await client.JoinGroupAsync(text, ct);
            if (joined.Group is not { } info)
            {
                ctx.Output.Result(new { group_id = joined.GroupId, pending = true, member = false },
                    $"asked to join {joined.GroupId}: an admin must approve (you are told either way)");
                return ExitCodes.Ok;
            }
            var members = info.Members.Select(m => new { user = m.User, role = m.IsAdmin ? "admin" : "member" });
            ctx.Output.Result(new { group_id = info.Id, pending = false, member = info.IsMember, title = info.Title, members },
                $"joined {info.Id} ({info.Members.Count} members); the title comes from an admin");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Requests()
    {
        var group = new Argument<string>("group") { Description = "The group's id or title" };
        var command = new Command("requests", "List the users waiting for an admin to let them in (admins only)") { group };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            await using var client = await ctx.ConnectAsync(ct);
            await client.SyncAsync(ct);
            var id = TypedGroup.Resolve(client, parse.GetValue(group)!);
            var requests = await client.GetJoinRequestsAsync(id, ct);
            ctx.Output.Result(new { group_id = id, requests },
                requests.Count == 0 ? "no join requests" : string.Join("\n", requests.Select(u => "  " + Markup.Escape(u))));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
