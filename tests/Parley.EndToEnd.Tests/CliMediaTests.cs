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
}
