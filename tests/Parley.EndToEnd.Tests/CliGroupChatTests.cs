using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Client;

namespace Parley.EndToEnd.Tests;

/// <summary>`parley chat --group` as a process in line mode (--json): history, live messages, typing, and the group's ticks as they move.</summary>
public sealed class CliGroupChatTests
{
    [Fact]
    public async Task Group_chat_shows_live_messages_and_typing_and_its_message_turns_delivered_then_read_as_members_get_and_read_it()
    {
        await using var server = await TestServer.StartAsync();
        var alice = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "alice", "--profile", alice)).ExitCode);
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        var bobInbox = new Inbox(bob);
        var carolInbox = new Inbox(carol);
        var group = await bob.CreateGroupAsync("Ropes", ["alice", "carol"], Wait.Token());
        var earlier = await bob.SendGroupTextAsync(group.Id, "who is coming?", Wait.Token());

        using var chat = Cli.Start("chat", "--group", group.Id, "--profile", alice, "--json");
        var events = new ConcurrentQueue<JsonElement>();
        var reading = Task.Run(async () =>
        {
            while (await chat.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Trim().Length > 0)
                {
                    events.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
                }
            }
        });
        var errors = chat.StandardError.ReadToEndAsync();
        bool Saw(string kind, Func<JsonElement, bool> match) => events.Any(e => e.GetProperty("event").GetString() == kind && match(e));
        try
        {
            // The history, with the sender and the group's text.
            await Wait.UntilAsync(() => Saw("message", e => e.GetProperty("id").GetString() == earlier), "the chat shows bob's earlier message");
            var shown = events.Single(e => e.GetProperty("event").GetString() == "message");
            Assert.Equal(("bob", "who is coming?"), (shown.GetProperty("from").GetString(), shown.GetProperty("text").GetString()));

            // Typing is ephemeral (only to devices online at the moment): bob types until the chat shows it.
            using (var typing = new CancellationTokenSource(Wait.Limit))
            {
                while (!Saw("typing", e => e.GetProperty("user").GetString() == "bob" && e.GetProperty("typing").GetBoolean()))
                {
                    await bob.SetGroupTypingAsync(group.Id, true, typing.Token);
                    await Task.Delay(200, typing.Token);
                }
            }

            // A line typed in the chat goes to the group: sent, then delivered once every member device has it, then read once every member read it.
            await chat.StandardInput.WriteLineAsync("on my way");
            await chat.StandardInput.FlushAsync();
            await Wait.UntilAsync(() => Saw("sent", _ => true), "the chat's message is SENT");
            var id = events.First(e => e.GetProperty("event").GetString() == "sent").GetProperty("id").GetString()!;
            await bob.SyncAsync(Wait.Token());
            await carol.SyncAsync(Wait.Token());
            await Wait.UntilAsync(() => bobInbox.Messages.Any(m => m.Id == id) && carolInbox.Messages.Any(m => m.Id == id), "bob and carol get it");
            Assert.Equal("on my way", carolInbox.Messages.Single(m => m.Id == id).Text);
            await Wait.UntilAsync(() => Saw("status", e => e.GetProperty("id").GetString() == id && e.GetProperty("status").GetString() == "delivered"), "✓✓ in the chat");
            Assert.False(Saw("status", e => e.GetProperty("id").GetString() == id && e.GetProperty("status").GetString() == "read"));
            await bob.MarkGroupReadAsync(group.Id, [id], Wait.Token());
            Assert.False(Saw("status", e => e.GetProperty("id").GetString() == id && e.GetProperty("status").GetString() == "read"));
            await carol.MarkGroupReadAsync(group.Id, [id], Wait.Token());
            await Wait.UntilAsync(() => Saw("status", e => e.GetProperty("id").GetString() == id && e.GetProperty("status").GetString() == "read"), "blue ✓✓ in the chat");

            // A live message shows at once, and the open chat reads it: with carol's READ too, bob's tick turns blue.
            var live = await carol.SendGroupTextAsync(group.Id, "rope is packed", Wait.Token());
            await Wait.UntilAsync(() => Saw("message", e => e.GetProperty("id").GetString() == live && e.GetProperty("from").GetString() == "carol"), "the chat shows carol's live message");
            await bob.SyncAsync(Wait.Token());
            await Wait.UntilAsync(() => bobInbox.Messages.Any(m => m.Id == live), "bob gets carol's message");
            await bob.MarkGroupReadAsync(group.Id, [live], Wait.Token());
            await Wait.UntilAsync(() => carol.FindMessage(live)!.Status == MessageStatus.Read, "carol's message is read by alice's chat and bob");
        }
        finally
        {
            chat.StandardInput.Close(); // input is over: the chat ends
            using var limit = new CancellationTokenSource(Wait.Limit);
            await chat.WaitForExitAsync(limit.Token);
            await reading;
            Assert.True(chat.ExitCode == 0, await errors);
        }
    }
}
