using Parley.Client;

namespace Parley.EndToEnd.Tests;

public sealed class CliTests
{
    [Fact]
    public async Task Send_receive_status_and_read_speak_json_lines()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        var bob = server.NewProfileDir();
        var url = server.BaseUri.ToString();

        var registered = (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", alice, "--json")).Single;
        Assert.Equal(("alice", 1u), (registered.GetProperty("user").GetString(), registered.GetProperty("device_id").GetUInt32()));
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "bob", "--profile", bob, "--json")).ExitCode);

        var send = await Cli.RunAsync("send", "bob", "hello from the cli", "--profile", alice, "--json");
        Assert.Equal(0, send.ExitCode);
        var id = send.Single.GetProperty("id").GetString()!;
        Assert.Equal("sent", send.Single.GetProperty("status").GetString());

        var receive = await Cli.RunAsync("receive", "--profile", bob, "--json");
        Assert.Equal(0, receive.ExitCode);
        var line = receive.Single;
        Assert.Equal((id, "alice", "hello from the cli"),
            (line.GetProperty("id").GetString(), line.GetProperty("from").GetString(), line.GetProperty("text").GetString()));
        Assert.True(DateTimeOffset.TryParse(line.GetProperty("sent_at").GetString(), out _));

        // Each message is printed once across runs.
        Assert.Empty((await Cli.RunAsync("receive", "--profile", bob, "--json")).Lines);

        var delivered = await Cli.RunAsync("status", id, "--profile", alice, "--json");
        Assert.Equal("delivered", delivered.Single.GetProperty("status").GetString());

        var read = await Cli.RunAsync("read", id, "--profile", bob, "--json");
        Assert.Equal((id, "read"), (read.Single.GetProperty("id").GetString(), read.Single.GetProperty("status").GetString()));

        var status = await Cli.RunAsync("status", id, "--profile", alice, "--json");
        Assert.Equal((0, "read"), (status.ExitCode, status.Single.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Receive_with_wait_prints_a_live_message()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await bob.SetPresenceVisibilityAsync(Parley.Protocol.PresenceVisibility.Everyone, Wait.Token());
        await bob.DisposeAsync();
        var online = new TaskCompletionSource();
        alice.PresenceChanged += (_, e) =>
        {
            if (e is { User: "bob", Online: true })
            {
                online.TrySetResult();
            }
        };
        await alice.SubscribePresenceAsync(["bob"], Wait.Token());

        using var receiving = Cli.Start("receive", "--wait", "10", "--profile", bob.ProfileDirectory, "--json");
        await online.Task.WaitAsync(Wait.Limit);
        var id = await alice.SendTextAsync("bob", "live", Wait.Token());
        var run = await Cli.FinishAsync(receiving);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal((id, "live"), (run.Single.GetProperty("id").GetString(), run.Single.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Link_adds_a_device_that_devices_lists()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        var laptop = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);

        var link = await Cli.RunAsync("link", "--from", alice, "--profile", laptop, "--json");
        Assert.Equal(2u, link.Single.GetProperty("device_id").GetUInt32());

        var devices = (await Cli.RunAsync("devices", "--profile", laptop, "--json")).Json;
        Assert.Equal([1u, 2u], devices.Select(d => d.GetProperty("id").GetUInt32()));
        Assert.Equal([false, true], devices.Select(d => d.GetProperty("this_device").GetBoolean()));
    }

    [Fact]
    public async Task Removed_device_loses_its_credentials_and_receives_nothing_sent_after_removal()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, laptop, tablet, bob) = (server.NewProfileDir(), server.NewProfileDir(), server.NewProfileDir(), server.NewProfileDir());
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "bob", "--profile", bob);
        await Cli.RunAsync("link", "--from", alice, "--profile", laptop, "--json");
        await Cli.RunAsync("link", "--from", alice, "--profile", tablet, "--json");
        Assert.Equal(0, (await Cli.RunAsync("send", "alice", "before", "--profile", bob, "--json")).ExitCode);

        var refused = await Cli.RunAsync("devices", "remove", "3", "--profile", laptop, "--json");
        Assert.Equal((2, "not_primary"), (refused.ExitCode, refused.Single.GetProperty("code").GetString()));
        var removed = await Cli.RunAsync("devices", "remove", "2", "--profile", alice, "--json");
        Assert.Equal((0, 2u), (removed.ExitCode, removed.Single.GetProperty("removed").GetUInt32()));

        Assert.Equal(0, (await Cli.RunAsync("send", "alice", "after", "--profile", bob, "--json")).ExitCode);
        var gone = await Cli.RunAsync("receive", "--profile", laptop, "--json");
        Assert.Equal((2, "unauthorized"), (gone.ExitCode, gone.Single.GetProperty("code").GetString()));
        Assert.Equal(["before", "after"], (await Cli.RunAsync("receive", "--profile", tablet, "--json")).Json.Select(m => m.GetProperty("text").GetString()));
        Assert.Equal([1u, 3u], (await Cli.RunAsync("devices", "--profile", alice, "--json")).Json.Select(d => d.GetProperty("id").GetUInt32()));

        Assert.Equal(0, (await Cli.RunAsync("devices", "remove", "3", "--profile", tablet, "--json")).ExitCode);
        Assert.Equal("unauthorized", (await Cli.RunAsync("receive", "--profile", tablet, "--json")).Single.GetProperty("code").GetString());
        Assert.Equal(0, (await Cli.RunAsync("send", "alice", "to the primary", "--profile", bob, "--json")).ExitCode);
        Assert.Contains("to the primary", (await Cli.RunAsync("receive", "--profile", alice, "--json")).Json.Select(m => m.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Devices_lists_names_when_added_and_last_seen_and_marks_this_device()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        var laptop = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Cli.RunAsync("link", "--from", alice, "--profile", laptop, "--device-name", "laptop", "--json");

        var devices = (await Cli.RunAsync("devices", "--profile", alice, "--json")).Json;

        Assert.Equal(2, devices.Count);
        var (primary, linked) = (devices[0], devices[1]);
        Assert.Equal((1u, true), (primary.GetProperty("id").GetUInt32(), primary.GetProperty("this_device").GetBoolean()));
        Assert.Equal(("laptop", false), (linked.GetProperty("name").GetString(), linked.GetProperty("this_device").GetBoolean()));
        Assert.True(linked.GetProperty("added_at").GetInt64() > 0);
        // The primary is connected while it lists; the laptop was last seen when linking uploaded its keys.
        Assert.True(primary.GetProperty("online").GetBoolean());
        Assert.True(primary.GetProperty("last_seen").GetInt64() >= before);
        Assert.False(linked.GetProperty("online").GetBoolean());
        Assert.InRange(linked.GetProperty("last_seen").GetInt64(), before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Server_refusals_exit_2_and_usage_errors_exit_1()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);

        var unknown = await Cli.RunAsync("send", "nobody", "hi", "--profile", alice, "--json");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("unknown_user", unknown.Single.GetProperty("code").GetString());
        Assert.Contains("no such user", unknown.Error, StringComparison.Ordinal);

        var taken = await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", server.NewProfileDir(), "--json");
        Assert.Equal((2, "user_taken"), (taken.ExitCode, taken.Single.GetProperty("code").GetString()));

        var noProfile = await Cli.RunAsync("send", "alice", "hi", "--profile", server.NewProfileDir(), "--json");
        Assert.Equal(1, noProfile.ExitCode);
        Assert.True(noProfile.Single.TryGetProperty("error", out _));

        var missing = await Cli.RunAsync("send", "--profile", alice);
        Assert.Equal(1, missing.ExitCode);

        var unknownId = await Cli.RunAsync("status", "01a204a4-0000-7000-8000-000000000000", "--profile", alice, "--json");
        Assert.Equal((1, "not_found"), (unknownId.ExitCode, unknownId.Single.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task Presence_visibility_everyone_lets_a_stranger_see_the_user_online()
    {
        await using var server = await TestServer.StartAsync();
        var bob = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "bob", "--profile", bob);
        var alice = await server.RegisterAsync("alice");
        var online = new TaskCompletionSource();
        alice.PresenceChanged += (_, e) =>
        {
            if (e is { User: "bob", Online: true })
            {
                online.TrySetResult();
            }
        };
        var set = await Cli.RunAsync("presence", "visibility", "everyone", "--profile", bob, "--json");
        Assert.Equal((0, "everyone"), (set.ExitCode, set.Single.GetProperty("visibility").GetString()));
        // Bob never wrote to alice: only his setting lets her watch him.
        await alice.SubscribePresenceAsync(["bob"], Wait.Token());

        using var receiving = Cli.Start("receive", "--wait", "10", "--profile", bob, "--json");
        await online.Task.WaitAsync(Wait.Limit);
        await alice.SendTextAsync("bob", "seen you", Wait.Token());
        Assert.Equal(0, (await Cli.FinishAsync(receiving)).ExitCode);

        var hidden = await Cli.RunAsync("presence", "visibility", "nobody", "--profile", bob, "--json");
        Assert.Equal((0, "nobody"), (hidden.ExitCode, hidden.Single.GetProperty("visibility").GetString()));
        Assert.Equal(1, (await Cli.RunAsync("presence", "visibility", "friends", "--profile", bob)).ExitCode);
    }

    [Fact]
    public async Task An_unreachable_server_exits_2()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        var run = await Cli.RunAsync("register", "--server", $"http://127.0.0.1:{port}", "--user", "alice",
            "--profile", Path.Combine(Path.GetTempPath(), "parley-cli-" + Guid.NewGuid().ToString("N")), "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("unreachable", run.Single.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Chat_in_line_mode_sends_each_input_line_and_prints_json_events()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        var earlier = await bob.SendTextAsync("alice", "are you there?", Wait.Token());

        using var chat = Cli.Start("chat", "bob", "--profile", alice, "--json");
        await chat.StandardInput.WriteLineAsync("yes, here");
        var run = await Cli.FinishAsync(chat); // closes stdin: the chat ends after sending

        Assert.Equal(0, run.ExitCode);
        var events = run.Json;
        var shown = Assert.Single(events, e => e.GetProperty("event").GetString() == "message");
        Assert.Equal((earlier, "bob", "are you there?"),
            (shown.GetProperty("id").GetString(), shown.GetProperty("from").GetString(), shown.GetProperty("text").GetString()));
        var sent = Assert.Single(events, e => e.GetProperty("event").GetString() == "sent");
        await bob.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);
        Assert.Equal((sent.GetProperty("id").GetString(), "yes, here"), (inbox.Messages[0].Id, inbox.Messages[0].Text));
        // An open chat reads what it shows: bob's message turns blue.
        await Wait.UntilAsync(() => bob.FindMessage(earlier)!.Status == MessageStatus.Read, "READ for bob's message");
    }

    [Fact]
    public async Task Parley_server_runs_a_server_the_other_commands_can_use()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-cli-server-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartThroughCliAsync(Path.Combine(root, "data"));
            var url = server.BaseUri.ToString();
            await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", Path.Combine(root, "alice"));
            await Cli.RunAsync("register", "--server", url, "--user", "bob", "--profile", Path.Combine(root, "bob"));

            var sent = await Cli.RunAsync("send", "bob", "through parley server", "--profile", Path.Combine(root, "alice"), "--json");
            var received = await Cli.RunAsync("receive", "--profile", Path.Combine(root, "bob"), "--json");

            Assert.Equal((0, 0), (sent.ExitCode, received.ExitCode));
            Assert.Equal("through parley server", received.Single.GetProperty("text").GetString());
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(root, "data"))); // --data reached the server
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task PARLEY_PROFILE_picks_the_profile_when_no_option_is_given()
    {
        await using var server = await TestServer.StartAsync();
        var alice = new Dictionary<string, string> { ["PARLEY_PROFILE"] = server.NewProfileDir() };
        var bob = new Dictionary<string, string> { ["PARLEY_PROFILE"] = server.NewProfileDir() };
        await Cli.RunAsync(alice, "register", "--server", server.BaseUri.ToString(), "--user", "alice");
        await Cli.RunAsync(bob, "register", "--server", server.BaseUri.ToString(), "--user", "bob");

        var id = (await Cli.RunAsync(alice, "send", "bob", "by environment", "--json")).Single.GetProperty("id").GetString();
        var received = await Cli.RunAsync(bob, "receive", "--json");

        Assert.Equal((id, "alice"), (received.Single.GetProperty("id").GetString(), received.Single.GetProperty("from").GetString()));
        Assert.True(Directory.Exists(alice["PARLEY_PROFILE"]));
    }
}
