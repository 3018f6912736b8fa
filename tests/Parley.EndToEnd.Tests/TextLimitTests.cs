using System.Text;
using Parley.Client;

namespace Parley.EndToEnd.Tests;

public sealed class TextLimitTests
{
    [Fact]
    public async Task A_text_of_the_largest_size_reaches_the_peer_in_the_first_message_of_a_session()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        // Mostly two-byte characters: the limit counts UTF-8 bytes, not characters.
        var wide = (ParleyClient.MaxTextBytes - 1) / 2;
        var text = new string('é', wide) + new string('x', ParleyClient.MaxTextBytes - (2 * wide));
        Assert.Equal(ParleyClient.MaxTextBytes, Encoding.UTF8.GetByteCount(text));

        // The first message carries the PQXDH prekey header: the most encryption ever adds.
        var id = await alice.SendTextAsync("bob", text, Wait.Token());
        await bob.SyncAsync(Wait.Token());

        await inbox.CountAsync(1);
        Assert.Equal((id, text), (inbox.Messages[0].Id, inbox.Messages[0].Text));
    }

    [Fact]
    public async Task A_text_over_the_limit_is_refused_with_its_size_before_anything_is_stored()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await server.RegisterAsync("bob");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => alice.SendTextAsync("bob", new string('a', ParleyClient.MaxTextBytes + 1), Wait.Token()));

        Assert.Contains($"{ParleyClient.MaxTextBytes + 1:N0} bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {ParleyClient.MaxTextBytes:N0}", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, alice.PendingSends);
        Assert.Empty(alice.GetConversation("bob"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\t \r\n")]
    public async Task Empty_and_blank_texts_are_refused_before_anything_is_stored(string text)
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");

        var e = Assert.Throws<ArgumentException>(() => alice.QueueText("bob", text));

        Assert.StartsWith("The message is empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, alice.PendingSends);
        Assert.Empty(alice.GetConversation("bob"));
    }
}
