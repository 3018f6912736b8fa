namespace Parley.EndToEnd.Tests;

/// <summary>`parley group invite|join|requests|approve` with the CLI as a process: links, revocation, approval, and the title reaching the joiner.</summary>
public sealed class CliGroupInviteTests
{
    [Fact]
    public async Task An_invite_link_joins_a_group_is_revoked_and_joins_that_need_approval_wait_for_an_admin()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var profiles = new Dictionary<string, string>();
        foreach (var user in new[] { "alice", "bob", "carol", "dave" })
        {
            profiles[user] = server.NewProfileDir();
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", user, "--profile", profiles[user], "--json")).ExitCode);
        }
        var groupId = (await Cli.RunAsync("group", "create", "Summit", "--members", "bob", "--profile", profiles["alice"], "--json")).Single.GetProperty("group_id").GetString()!;

        var forbidden = await Cli.RunAsync("group", "invite", groupId, "--profile", profiles["bob"], "--json");
        Assert.Equal((2, "forbidden"), (forbidden.ExitCode, forbidden.Single.GetProperty("code").GetString()));
        var invite = await Cli.RunAsync("group", "invite", "Summit", "--profile", profiles["alice"], "--json");
        Assert.Equal(0, invite.ExitCode);
        var link = invite.Single.GetProperty("link").GetString()!;
        Assert.StartsWith("parley://join/" + groupId + "/", link);

        var joined = await Cli.RunAsync("group", "join", link, "--profile", profiles["carol"], "--json");
        Assert.Equal((false, true), (joined.Single.GetProperty("pending").GetBoolean(), joined.Single.GetProperty("member").GetBoolean()));
        Assert.Equal(["alice", "bob", "carol"], joined.Single.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()));
        // alice's device made the link: when it next hears from the server it sends carol the title.
        Assert.Equal(0, (await Cli.RunAsync("receive", "--profile", profiles["alice"], "--json")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("receive", "--profile", profiles["carol"], "--json")).ExitCode);
        var groups = await Cli.RunAsync("groups", "--profile", profiles["carol"], "--json");
        Assert.Equal((groupId, "Summit", 3), (groups.Single.GetProperty("group_id").GetString(), groups.Single.GetProperty("title").GetString(),
            groups.Single.GetProperty("members").GetInt32()));

        Assert.True((await Cli.RunAsync("group", "invite", groupId, "--revoke", "--profile", profiles["alice"], "--json")).Single.GetProperty("revoked").GetBoolean());
        var revoked = await Cli.RunAsync("group", "join", link, "--profile", profiles["dave"], "--json");
        Assert.Equal((2, "invalid_invite"), (revoked.ExitCode, revoked.Single.GetProperty("code").GetString()));
        Assert.Equal(1, (await Cli.RunAsync("group", "join", "not-a-link", "--profile", profiles["dave"], "--json")).ExitCode);

        var guarded = (await Cli.RunAsync("group", "invite", groupId, "--approve", "--profile", profiles["alice"], "--json")).Single;
        Assert.True(guarded.GetProperty("approve").GetBoolean());
        var asked = await Cli.RunAsync("group", "join", guarded.GetProperty("link").GetString()!, "--profile", profiles["dave"], "--json");
        Assert.Equal((true, false), (asked.Single.GetProperty("pending").GetBoolean(), asked.Single.GetProperty("member").GetBoolean()));
        var requests = await Cli.RunAsync("group", "requests", groupId, "--profile", profiles["alice"], "--json");
        Assert.Equal(["dave"], requests.Single.GetProperty("requests").EnumerateArray().Select(u => u.GetString()));
        var approved = await Cli.RunAsync("group", "approve", groupId, "dave", "--profile", profiles["alice"], "--json");
        Assert.Contains("dave", approved.Single.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()));
        Assert.Equal(0, (await Cli.RunAsync("receive", "--profile", profiles["dave"], "--json")).ExitCode);
        var info = await Cli.RunAsync("group", "info", groupId, "--profile", profiles["dave"], "--json");
        Assert.Equal(("Summit", true), (info.Single.GetProperty("title").GetString(), info.Single.GetProperty("member").GetBoolean()));
    }
}
