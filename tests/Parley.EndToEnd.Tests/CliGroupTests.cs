namespace Parley.EndToEnd.Tests;

/// <summary>The `parley group` commands, `groups`, `send --group`, `receive` and `status` of a group message, with the CLI as a process.</summary>
public sealed class CliGroupTests
{
    [Fact]
    public async Task Group_commands_speak_json_lines_and_a_group_message_shows_with_the_group_name_and_member_ticks()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var alice = server.NewProfileDir();
        var bob = server.NewProfileDir();
        var carol = server.NewProfileDir();
        foreach (var (user, profile) in new[] { ("alice", alice), ("bob", bob), ("carol", carol) })
        {
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", user, "--profile", profile, "--json")).ExitCode);
        }

        var created = await Cli.RunAsync("group", "create", "Rope team", "--members", "bob", "--profile", alice, "--json");
        Assert.Equal(0, created.ExitCode);
        var groupId = created.Single.GetProperty("group_id").GetString()!;
        Assert.Equal(32, groupId.Length);

        // Bob is a plain member: adding someone is for admins.
        var refused = await Cli.RunAsync("group", "add", groupId, "carol", "--profile", bob, "--json");
        Assert.Equal((2, "forbidden"), (refused.ExitCode, refused.Single.GetProperty("code").GetString()));
        var added = await Cli.RunAsync("group", "add", "Rope team", "carol", "--profile", alice, "--json");
        Assert.Equal(["alice", "bob", "carol"], added.Single.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()).Order());
        var promoted = await Cli.RunAsync("group", "promote", groupId, "bob", "--profile", alice, "--json");
        Assert.Equal("admin", promoted.Single.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("user").GetString() == "bob").GetProperty("role").GetString());
        Assert.Equal(0, (await Cli.RunAsync("group", "demote", groupId, "bob", "--profile", alice, "--json")).ExitCode);

        var sent = await Cli.RunAsync("send", "--group", groupId, "belay on", "--profile", alice, "--json");
        Assert.Equal(0, sent.ExitCode);
        var id = sent.Single.GetProperty("id").GetString()!;

        foreach (var profile in new[] { bob, carol })
        {
            var line = (await Cli.RunAsync("receive", "--profile", profile, "--json")).Single;
            Assert.Equal((id, "alice", groupId, "Rope team", "belay on"), (line.GetProperty("id").GetString(), line.GetProperty("from").GetString(),
                line.GetProperty("group_id").GetString(), line.GetProperty("group").GetString(), line.GetProperty("text").GetString()));
        }
        var groups = await Cli.RunAsync("groups", "--profile", carol, "--json");
        Assert.Equal((groupId, "Rope team", 3), (groups.Single.GetProperty("group_id").GetString(), groups.Single.GetProperty("title").GetString(),
            groups.Single.GetProperty("members").GetInt32()));

        var delivered = await Cli.RunAsync("status", id, "--profile", alice, "--json");
        Assert.Equal("delivered", delivered.Single.GetProperty("status").GetString());
        Assert.Equal(["bob", "carol"], delivered.Single.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()));
        Assert.Equal(0, (await Cli.RunAsync("read", id, "--profile", bob, "--json")).ExitCode);
        var half = await Cli.RunAsync("status", id, "--profile", alice, "--json");
        Assert.Equal(("delivered", "read", "delivered"), (half.Single.GetProperty("status").GetString(),
            half.Single.GetProperty("members")[0].GetProperty("status").GetString(), half.Single.GetProperty("members")[1].GetProperty("status").GetString()));
        Assert.Equal(0, (await Cli.RunAsync("read", id, "--profile", carol, "--json")).ExitCode);
        Assert.Equal("read", (await Cli.RunAsync("status", id, "--profile", alice, "--json")).Single.GetProperty("status").GetString());

        var left = await Cli.RunAsync("group", "leave", groupId, "--profile", alice, "--json");
        Assert.False(left.Single.GetProperty("member").GetBoolean());
        var info = await Cli.RunAsync("group", "info", groupId, "--profile", bob, "--json");
        Assert.Equal(("Rope team", "admin"), (info.Single.GetProperty("title").GetString(),
            info.Single.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("user").GetString() == "bob").GetProperty("role").GetString()));
        var stranger = await Cli.RunAsync("group", "info", groupId, "--profile", alice, "--json");
        Assert.Equal((2, "not_a_member"), (stranger.ExitCode, stranger.Single.GetProperty("code").GetString()));
    }
}
