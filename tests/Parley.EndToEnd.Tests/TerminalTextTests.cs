namespace Parley.EndToEnd.Tests;

/// <summary>Peer text on a terminal: no escape sequences get through, line breaks show; JSON keeps the exact text.</summary>
public sealed class TerminalTextTests
{
    // A window-title change (OSC), a screen clear (CSI), a C1 CSI, a bell, a tab and two kinds of line break.
    private const string Hostile = "hi\u001b]0;pwned\u0007 there\u001b[2J\u009b31m\tend\nsecond\r\nthird";

    [Fact]
    public async Task Received_text_prints_without_control_characters_and_with_visible_line_breaks_while_json_keeps_it_exact()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var carol = await server.RegisterAsync("carol");
        await bob.DisposeAsync();
        await carol.DisposeAsync();
        await alice.SendTextAsync("bob", Hostile, Wait.Token());
        await alice.SendTextAsync("carol", Hostile, Wait.Token());

        var plain = await Cli.RunAsync("receive", "--profile", bob.ProfileDirectory);
        Assert.Equal(0, plain.ExitCode);
        var line = Assert.Single(plain.Lines);
        Assert.Contains("hi]0;pwned there[2J31m\tend↵second↵third", line, StringComparison.Ordinal);
        Assert.DoesNotContain(line, c => c is < ' ' and not '\t' || c is >= '\u007f' and <= '\u009f');

        var json = await Cli.RunAsync("receive", "--profile", carol.ProfileDirectory, "--json");
        Assert.Equal(Hostile, json.Single.GetProperty("text").GetString());
    }
}
