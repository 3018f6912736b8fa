using Parley.Crypto.Keys;

namespace Parley.EndToEnd.Tests;

public sealed class CliEncryptionTests
{
    [Fact]
    public async Task Safety_number_gives_the_same_sixty_digits_on_both_sides_and_for_a_linked_device()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var alice = server.NewProfileDir();
        var alicePhone = server.NewProfileDir();
        var bob = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", alice)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "bob", "--profile", bob)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("link", "--from", alice, "--profile", alicePhone)).ExitCode);

        var fromAlice = (await Cli.RunAsync("safety-number", "bob", "--profile", alice, "--json")).Single;
        var fromBob = (await Cli.RunAsync("safety-number", "alice", "--profile", bob, "--json")).Single;
        var fromPhone = (await Cli.RunAsync("safety-number", "bob", "--profile", alicePhone, "--json")).Single;

        var digits = fromAlice.GetProperty("safety_number").GetString()!;
        Assert.Matches("^[0-9]{60}$", digits);
        Assert.Equal("bob", fromAlice.GetProperty("peer").GetString());
        Assert.Equal(digits, fromBob.GetProperty("safety_number").GetString());
        Assert.Equal(digits, fromPhone.GetProperty("safety_number").GetString()); // the identity is the account's

        var human = await Cli.RunAsync("safety-number", "bob", "--profile", alice);
        Assert.Equal(0, human.ExitCode);
        var grouped = string.Join(' ', Enumerable.Range(0, 12).Select(i => digits.Substring(i * 5, 5)));
        Assert.Contains(grouped[..35], human.Lines);
        Assert.Contains(human.Lines, l => l.Contains('█') || l.Contains('▀') || l.Contains('▄')); // the QR code
    }

    [Fact]
    public async Task Verify_marks_the_peer_and_chat_warns_when_its_key_changes()
    {
        await using var server = await TestServer.StartAsync();
        var url = server.BaseUri.ToString();
        var alice = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", url, "--user", "alice", "--profile", alice)).ExitCode);
        var bob = await server.RegisterAsync("bob");

        var verified = (await Cli.RunAsync("verify", "bob", "--profile", alice, "--json")).Single;
        Assert.True(verified.GetProperty("verified").GetBoolean());
        Assert.True((await Cli.RunAsync("safety-number", "bob", "--profile", alice, "--json")).Single.GetProperty("verified").GetBoolean());

        // bob's account key changes (a re-registration): a new list under a new key names bob's device and a new one.
        await using var other = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password);
        var otherIdentity = IdentityKeyPair.Generate();
        await other.UploadKeysAsync(otherIdentity);
        await other.PublishListAsync(IdentityKeyPair.Generate(), 1, (1, bob.Store.GetIdentityKeyPair().IdentityKey), (other.Credentials.DeviceId, otherIdentity.IdentityKey));

        var refused = await Cli.RunAsync("send", "bob", "held back", "--profile", alice, "--json");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("safety number with bob changed", refused.Error, StringComparison.Ordinal);
        Assert.Equal("identity_changed", refused.Single.GetProperty("code").GetString());

        using var chat = Cli.Start("chat", "bob", "--profile", alice, "--json");
        var run = await Cli.FinishAsync(chat);
        var warning = Assert.Single(run.Json, e => e.GetProperty("event").GetString() == "identity_changed");
        Assert.Equal("safety number with bob changed", warning.GetProperty("warning").GetString());

        var accepted = (await Cli.RunAsync("verify", "bob", "--profile", alice, "--json")).Single;
        Assert.True(accepted.GetProperty("accepted_change").GetBoolean());
        using var calm = Cli.Start("chat", "bob", "--profile", alice, "--json");
        Assert.DoesNotContain((await Cli.FinishAsync(calm)).Json, e => e.GetProperty("event").GetString() == "identity_changed");
    }
}
