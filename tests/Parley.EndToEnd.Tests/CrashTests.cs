using Parley.Client;

namespace Parley.EndToEnd.Tests;

public sealed class CrashTests
{
    [Fact]
    public Task A_message_acknowledged_as_sent_survives_a_server_kill() => WithServerAsync(async (server, alice, bob) =>
    {
        var id = await alice.SendTextAsync("bob", "durable", Wait.Token());
        await server.KillAsync(); // at once after SENT: SIGKILL, nothing flushed on the way out

        await server.RestartAsync();
        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        Assert.Equal([(id, "durable")], inbox.Messages.Select(m => (m.Id, m.Text)));
    });

    [Fact]
    public Task Sends_made_while_the_server_is_down_go_out_after_it_returns() => WithServerAsync(async (server, alice, bob) =>
    {
        await alice.SendTextAsync("bob", "before", Wait.Token());
        await server.KillAsync();

        // The outbox holds it; the client keeps reconnecting with backoff until the server is back.
        var pending = alice.SendTextAsync("bob", "during", Wait.Token());
        Assert.Equal(1, alice.PendingSends);
        await server.RestartAsync();
        var id = await pending;

        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());
        Assert.Equal(["before", "during"], inbox.Texts);
        Assert.Equal(id, inbox.Messages[1].Id);
    });

    [Fact]
    public Task A_message_queued_while_the_server_is_down_goes_out_with_the_next_client_of_the_profile() => WithServerAsync(async (server, alice, bob) =>
    {
        await server.KillAsync();
        // As `parley send` does: queued without a connection, then the process ends.
        var id = alice.QueueText("bob", "queued offline");
        Assert.Equal([id], alice.QueuedMessageIds());
        Assert.Equal(MessageStatus.Pending, alice.FindMessage(id)!.Status);
        var profile = alice.ProfileDirectory;
        await alice.DisposeAsync();

        await server.RestartAsync();
        await using var later = ParleyClient.Open(profile, Wait.Options());
        Assert.Equal([id], await later.FlushOutboxAsync(cancellationToken: Wait.Token()));
        Assert.Equal(MessageStatus.Sent, later.FindMessage(id)!.Status);

        var inbox = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());
        Assert.Equal([(id, "queued offline")], inbox.Messages.Select(m => (m.Id, m.Text)));
    });

    // A server process with alice and bob registered, all in a temp folder that is removed afterwards.
    private static Task WithServerAsync(Func<ServerProcess, ParleyClient, ParleyClient, Task> test) => WithServerAsync([], test);

    /// <summary>A server process started with <paramref name="settings"/>, alice and bob registered as real clients, all in a temp folder removed afterwards.</summary>
    internal static async Task WithServerAsync(string[] settings, Func<ServerProcess, ParleyClient, ParleyClient, Task> test)
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"), settings);
            await using var alice = await ParleyClient.RegisterAsync(Path.Combine(root, "alice"), server.BaseUri, "alice", options: Wait.Options());
            await using var bob = await ParleyClient.RegisterAsync(Path.Combine(root, "bob"), server.BaseUri, "bob", options: Wait.Options());
            await test(server, alice, bob);
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
}
