using System.Buffers.Text;
using System.Security.Cryptography;
using Parley.Client;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

public sealed class PushCliTests
{
    [Fact]
    public async Task Push_subscribe_status_and_unsubscribe_set_each_kind_on_the_server()
    {
        await using var server = await TestServer.StartAsync();
        var bob = server.NewProfileDir();
        Assert.Equal(0, (await Cli.RunAsync("register", "--server", server.BaseUri.ToString(), "--user", "bob", "--profile", bob, "--json")).ExitCode);

        var none = (await Cli.RunAsync("push", "status", "--profile", bob, "--json")).Single;
        Assert.Equal("none", none.GetProperty("kind").GetString());
        Assert.Equal(65, Base64Url.DecodeFromChars(none.GetProperty("vapid_public_key").GetString()).Length);

        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = key.ExportParameters(false).Q;
        var p256dh = Base64Url.EncodeToString([0x04, .. q.X!, .. q.Y!]);             // as browsers give it
        var auth = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));        // standard base64 works too
        var web = await Cli.RunAsync("push", "subscribe", "--webpush", "https://push.example.com/wpush/abc", "--p256dh", p256dh, "--auth", auth, "--profile", bob, "--json");
        Assert.Equal(0, web.ExitCode);
        var status = (await Cli.RunAsync("push", "status", "--profile", bob, "--json")).Single;
        Assert.Equal(("webpush", "https://push.example.com/wpush/abc"), (status.GetProperty("kind").GetString(), status.GetProperty("url").GetString()));

        var gateway = await Cli.RunAsync("push", "subscribe", "--gateway", "https://gateway.example.com/push", "--token", "apns-token-1", "--profile", bob, "--json");
        Assert.Equal(0, gateway.ExitCode);
        status = (await Cli.RunAsync("push", "status", "--profile", bob, "--json")).Single;
        Assert.Equal(("gateway", "apns-token-1"), (status.GetProperty("kind").GetString(), status.GetProperty("token").GetString()));

        var refused = await Cli.RunAsync("push", "subscribe", "--gateway", "http://gateway.example.com/push", "--token", "t", "--profile", bob, "--json");
        Assert.Equal(2, refused.ExitCode); // the server refuses plain http
        Assert.Contains("https", refused.Error + string.Join('\n', refused.Lines), StringComparison.Ordinal);
        var usage = await Cli.RunAsync("push", "subscribe", "--webpush", "https://push.example.com/x", "--p256dh", "not base64!", "--auth", auth, "--profile", bob, "--json");
        Assert.Equal(1, usage.ExitCode);

        Assert.Equal(0, (await Cli.RunAsync("push", "unsubscribe", "--profile", bob, "--json")).ExitCode);
        Assert.Equal("none", (await Cli.RunAsync("push", "status", "--profile", bob, "--json")).Single.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task SDK_refuses_keys_of_the_wrong_size_before_asking_the_server_and_reports_server_refusals_by_code()
    {
        await using var server = await TestServer.StartAsync();
        var bob = await server.RegisterAsync("bob");
        await Assert.ThrowsAsync<ArgumentException>(() => bob.SetWebPushAsync(new Uri("https://push.example.com/x"), new byte[64], new byte[16], Wait.Token()));
        await Assert.ThrowsAsync<ArgumentException>(() => bob.SetWebPushAsync(new Uri("https://push.example.com/x"), new byte[65], new byte[15], Wait.Token()));
        var refused = await Assert.ThrowsAsync<ParleyException>(() => bob.SetPushGatewayAsync(new Uri("https://gw.example.com/" + new string('a', WireLimits.MaxPushUrlLength)), "t", Wait.Token()));
        Assert.Equal(ErrorCode.TooLarge, refused.Code);
        Assert.Equal("none", (await bob.GetPushAsync(Wait.Token())).Kind);
    }
}
