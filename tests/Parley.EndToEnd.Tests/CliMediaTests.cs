using System.Security.Cryptography;
using System.Text.Json;

namespace Parley.EndToEnd.Tests;

/// <summary>The media commands of the real CLI against a real server.</summary>
public sealed class CliMediaTests
{
    [Fact]
    public async Task Send_file_and_receive_save_a_verified_copy_and_speak_json_lines()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        var bob = server.NewProfileDir();
        var url = server.BaseUri.ToString();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", alice)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "bob", "--profile", bob)).ExitCode);
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
        var path = Path.Combine(server.NewProfileDir(), "holiday.mp4");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, bytes);

        var send = await Cli.RunAsync("send-file", "bob", path, "--caption", "the beach", "--profile", alice, "--json");
        Assert.Equal(0, send.ExitCode);
        var sent = send.Single;
        Assert.Equal("sent", sent.GetProperty("status").GetString());
        var id = sent.GetProperty("id").GetString();
        // Progress goes to stderr as JSON lines, ending at the whole blob.
        var progress = send.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Contains(progress, p => p.GetProperty("event").GetString() == "progress");
        Assert.Equal(progress[^1].GetProperty("total_bytes").GetInt64(), progress[^1].GetProperty("bytes_done").GetInt64());

        var media = Path.Combine(server.NewProfileDir(), "inbox");
        var receive = await Cli.RunAsync("receive", "--media-dir", media, "--profile", bob, "--json");
        Assert.Equal(0, receive.ExitCode);
        var got = receive.Single;
        Assert.Equal(id, got.GetProperty("id").GetString());
        Assert.Equal("holiday.mp4", got.GetProperty("file").GetString());
        Assert.Equal("the beach", got.GetProperty("text").GetString());
        Assert.Equal(bytes.Length, got.GetProperty("size").GetInt64());
        var saved = got.GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(media, "holiday.mp4"), saved);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
    }

    [Fact]
    public async Task Send_file_to_a_group_by_title_and_receive_shows_it_with_the_group_name_at_every_member()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        var bob = server.NewProfileDir();
        var carol = server.NewProfileDir();
        var url = server.BaseUri.ToString();
        foreach (var (user, profile) in new[] { ("alice", alice), ("bob", bob), ("carol", carol) })
        {
            Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", user, "--profile", profile)).ExitCode);
        }
        var created = await Cli.RunAsync("group", "create", "Rope team", "--members", "bob,carol", "--profile", alice, "--json");
        Assert.Equal(0, created.ExitCode);
        var groupId = created.Single.GetProperty("group_id").GetString()!;
        var bytes = RandomNumberGenerator.GetBytes(300 * 1024 + 7);
        var path = Path.Combine(server.NewProfileDir(), "route.gpx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, bytes);

        var send = await Cli.RunAsync("send-file", "--group", "Rope team", path, "--caption", "the route", "--profile", alice, "--json");
        Assert.Equal(0, send.ExitCode);
        var sent = send.Single;
        Assert.Equal(("sent", groupId, "Rope team"), (sent.GetProperty("status").GetString(), sent.GetProperty("group_id").GetString(), sent.GetProperty("group").GetString()));
        var id = sent.GetProperty("id").GetString();

        foreach (var member in new[] { bob, carol })
        {
            var media = Path.Combine(server.NewProfileDir(), "inbox");
            var receive = await Cli.RunAsync("receive", "--media-dir", media, "--profile", member, "--json");
            Assert.Equal(0, receive.ExitCode);
            var got = receive.Single;
            Assert.Equal((id, "alice", groupId, "Rope team", "incoming"),
                (got.GetProperty("id").GetString(), got.GetProperty("from").GetString(), got.GetProperty("group_id").GetString(), got.GetProperty("group").GetString(), got.GetProperty("direction").GetString()));
            Assert.Equal(("route.gpx", "the route", (long)bytes.Length), (got.GetProperty("file").GetString(), got.GetProperty("text").GetString(), got.GetProperty("size").GetInt64()));
            Assert.Equal(bytes, await File.ReadAllBytesAsync(got.GetProperty("path").GetString()!));
        }

        // With --group, a second positional argument is a usage error.
        Assert.Equal(1, (await Cli.RunAsync("send-file", "--group", groupId, path, "extra", "--profile", alice, "--json")).ExitCode);
    }
}
