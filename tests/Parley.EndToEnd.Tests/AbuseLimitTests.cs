using Parley.Client;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>How the SDK takes the server's abuse limits: final refusals fail one message, hints are dropped quietly.</summary>
public sealed class AbuseLimitTests
{
    [Fact]
    public async Task A_message_to_a_full_queue_is_marked_failed_and_the_outbox_goes_on()
    {
        await using var server = await TestServer.StartAsync(o => o.Limits.MaxQueuedEnvelopesPerDevice = 1);
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        await bob.DisconnectAsync();

        await alice.SendTextAsync("bob", "fits", Wait.Token());
        var refused = await Assert.ThrowsAsync<ParleyException>(() => alice.SendTextAsync("bob", "does not fit", Wait.Token()));
        Assert.Equal(ErrorCode.RecipientQueueFull, refused.Code);
        Assert.Equal(MessageStatus.Failed, alice.GetConversation("bob").Single(m => m.Text == "does not fit").Status);

        var carolInbox = new Inbox(carol);
        await alice.SendTextAsync("carol", "still sending", Wait.Token());
        await carol.SyncAsync(Wait.Token());
        await carolInbox.CountAsync(1);
    }

    [Fact]
    public async Task Typing_to_a_stranger_is_dropped_quietly_and_reaches_a_conversation_peer()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var typing = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.TypingChanged += (_, e) => typing.TrySetResult(e.User);
        await bob.SyncAsync(Wait.Token());

        await alice.SetTypingAsync("bob", true, Wait.Token()); // no conversation yet: FORBIDDEN, swallowed
        await alice.SendTextAsync("bob", "hello", Wait.Token());
        await alice.SetTypingAsync("bob", true, Wait.Token());
        Assert.Equal("alice", await typing.Task.WaitAsync(Wait.Limit));
    }
}
