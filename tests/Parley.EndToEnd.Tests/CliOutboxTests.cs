using Parley.Client;

namespace Parley.EndToEnd.Tests;

/// <summary>What a new user hits first: sends while the server is down, long and blank texts, names, linked devices.</summary>
public sealed class CliOutboxTests
{
    [Fact]
    public async Task A_send_while_the_server_is_down_is_queued_and_any_later_command_delivers_it_once()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-cli-outbox-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"));
            var (alice, bob) = (Path.Combine(root, "alice"), Path.Combine(root, "bob"));
            await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
            await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "bob", "--profile", bob);
            await server.KillAsync();

            var send = await Cli.RunAsync("send", "bob", "sent while down", "--profile", alice, "--json");
            Assert.Equal((3, "pending"), (send.ExitCode, send.Single.GetProperty("status").GetString()));
            var id = send.Single.GetProperty("id").GetString()!;
            var offline = await Cli.RunAsync("status", id, "--profile", alice);
            Assert.Equal(0, offline.ExitCode);
            Assert.Equal($"🕓 pending {id}", Assert.Single(offline.Lines));
            Assert.Contains("cannot reach", offline.Error, StringComparison.Ordinal);

            await server.RestartAsync();
            var devices = await Cli.RunAsync("devices", "--profile", alice);
            Assert.Equal(0, devices.ExitCode);
            Assert.Contains($"sent queued message {id}", devices.Error, StringComparison.Ordinal);
            Assert.Equal("sent", (await Cli.RunAsync("status", id, "--profile", alice, "--json")).Single.GetProperty("status").GetString());

            var received = await Cli.RunAsync("receive", "--profile", bob, "--json");
            Assert.Equal((id, "sent while down"), (received.Single.GetProperty("id").GetString(), received.Single.GetProperty("text").GetString()));
            var sync = await Cli.RunAsync("sync", "--profile", alice, "--json");
            Assert.Equal((0, 0), (sync.ExitCode, sync.Lines.Count));
            Assert.Empty((await Cli.RunAsync("receive", "--profile", bob, "--json")).Lines);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
    public async Task Chat_shows_a_line_typed_while_the_server_is_down_at_once_and_sends_it_after()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-cli-chat-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"));
            var (alice, bob) = (Path.Combine(root, "alice"), Path.Combine(root, "bob"));
            await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
            await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "bob", "--profile", bob);
            await Cli.RunAsync("send", "alice", "are you there?", "--profile", bob);

            using var chat = Cli.Start("chat", "bob", "--profile", alice, "--json");
            // A failed assertion must not leave the chat running.
            await using var stop = new ProcessKiller(chat);
            using var limit = new CancellationTokenSource(Wait.Limit);
            // The history line says the chat is connected and synced.
            Assert.Contains("\"event\":\"message\"", await chat.StandardOutput.ReadLineAsync(limit.Token), StringComparison.Ordinal);
            await server.KillAsync();
            await chat.StandardInput.WriteLineAsync("typed while down");
            await chat.StandardInput.FlushAsync(limit.Token);
            string? line;
            while ((line = await chat.StandardOutput.ReadLineAsync(limit.Token)) is not null && !line.Contains("\"queued\"", StringComparison.Ordinal))
            {
            }
            // Shown while the server is still down.
            var queued = System.Text.Json.JsonDocument.Parse(line!).RootElement;
            Assert.Equal("pending", queued.GetProperty("status").GetString());
            var id = queued.GetProperty("id").GetString();

            await server.RestartAsync();
            var rest = await Cli.FinishAsync(chat); // stdin closes: the chat ends once the line is sent
            Assert.Equal(0, rest.ExitCode);
            Assert.Contains(rest.Json, e => e.GetProperty("event").GetString() == "sent" && e.GetProperty("id").GetString() == id);
            var received = await Cli.RunAsync("receive", "--profile", bob, "--json");
            Assert.Equal((id, "typed while down"), (received.Single.GetProperty("id").GetString(), received.Single.GetProperty("text").GetString()));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
    public async Task Send_reads_the_text_from_stdin_or_a_file_without_the_final_line_break()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        var file = Path.Combine(Path.GetTempPath(), "parley-text-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(file, "line one\nline two\n");
        try
        {
            using var piped = Cli.Start("send", "bob", "-", "--profile", alice, "--json");
            await piped.StandardInput.WriteAsync("from stdin\n");
            Assert.Equal(0, (await Cli.FinishAsync(piped)).ExitCode);
            Assert.Equal(0, (await Cli.RunAsync("send", "bob", "--file", file, "--profile", alice, "--json")).ExitCode);

            await bob.SyncAsync(Wait.Token());
            await inbox.CountAsync(2);
            Assert.Equal(["from stdin", "line one\nline two"], inbox.Texts);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Too_long_or_blank_texts_are_refused_in_plain_words_and_nothing_is_queued()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        var file = Path.Combine(Path.GetTempPath(), "parley-text-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(file, new string('a', 100_000));
        try
        {
            var tooLong = await Cli.RunAsync("send", "bob", "--file", file, "--profile", alice);
            Assert.Equal(1, tooLong.ExitCode);
            Assert.Contains($"at most {ParleyClient.MaxTextBytes:N0} bytes", tooLong.Error, StringComparison.Ordinal);
            var blank = await Cli.RunAsync("send", "bob", "   ", "--profile", alice);
            Assert.Equal(1, blank.ExitCode);
            Assert.Contains("empty", blank.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("Parameter", tooLong.Error + blank.Error, StringComparison.Ordinal);

            var sync = await Cli.RunAsync("sync", "--profile", alice, "--json");
            Assert.Equal((0, 0), (sync.ExitCode, sync.Lines.Count));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Names_with_capitals_are_taken_in_lower_case_and_other_mistakes_are_explained()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString().TrimEnd('/');

        var capitals = await Cli.RunAsync("register", "--server", url, "--user", "Alice", "--profile", server.NewProfileDir());
        Assert.Equal(0, capitals.ExitCode);
        Assert.StartsWith("Registered alice ", Assert.Single(capitals.Lines), StringComparison.Ordinal);
        Assert.Contains("lower case", capitals.Error, StringComparison.Ordinal);

        var bad = await Cli.RunAsync("register", "--server", url, "--user", "al ice", "--profile", server.NewProfileDir());
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("3 to 32 characters", bad.Error, StringComparison.Ordinal);

        foreach (var withPath in new[] { url + "/foo", url + "/?x=1" })
        {
            var run = await Cli.RunAsync("register", "--server", withPath, "--user", "bob", "--profile", server.NewProfileDir());
            Assert.Equal(1, run.ExitCode);
            Assert.Contains($"try {url}", run.Error, StringComparison.Ordinal);
        }
        var noUser = await Cli.RunAsync("send", "x", "hi", "--profile", server.NewProfileDir());
        Assert.DoesNotContain("Parameter", capitals.Error + bad.Error + noUser.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", capitals.Error + bad.Error + noUser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_linked_device_prints_what_the_user_sent_from_another_device_as_theirs()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, laptop) = (server.NewProfileDir(), server.NewProfileDir());
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);
        await Cli.RunAsync("link", "--from", alice, "--profile", laptop);
        await server.RegisterAsync("bob");

        var id = (await Cli.RunAsync("send", "bob", "from my desk", "--profile", alice, "--json")).Single.GetProperty("id").GetString();
        var json = (await Cli.RunAsync("receive", "--profile", laptop, "--json")).Single;
        Assert.Equal((id, "outgoing", "alice", "bob"), (json.GetProperty("id").GetString(), json.GetProperty("direction").GetString(),
            json.GetProperty("from").GetString(), json.GetProperty("to").GetString()));

        await Cli.RunAsync("send", "bob", "second", "--profile", alice);
        var text = await Cli.RunAsync("receive", "--profile", laptop);
        Assert.Contains("you → bob: second", Assert.Single(text.Lines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_column_of_the_devices_table_has_a_header()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice);

        var run = await Cli.RunAsync("devices", "--profile", alice);

        var header = run.Lines.First(l => l.Contains("name", StringComparison.Ordinal) && l.Contains('│', StringComparison.Ordinal));
        var cells = header.Split('│', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, cells.Length);
        Assert.All(cells, c => Assert.NotEmpty(c.Trim()));
    }
}
