using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;

namespace Parley.Server.Tests;

public sealed class RegistrationTests
{
    private static HttpClient Http(ServerFixture fx) => new() { BaseAddress = fx.Server.BaseUri };

    private static async Task<(HttpStatusCode Status, string? Code)> PostAsync(HttpClient http, string path, object body, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: ParleyJson.Options) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        var response = await http.SendAsync(request);
        if (response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }
        var error = await response.Content.ReadFromJsonAsync<ApiError>(ParleyJson.Options);
        return (response.StatusCode, error!.Code);
    }

    [Fact]
    public async Task Open_registration_gives_device_1_and_refuses_taken_or_malformed_names()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = Http(fx);
        var credentials = await RawClient.RegisterAsync(fx.Server, "alice");
        Assert.Equal(1u, credentials.DeviceId);
        Assert.True(credentials.Password.Length >= 40);
        Assert.Equal((HttpStatusCode.Conflict, "user_taken"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("alice")));
        foreach (var bad in new[] { "al", "Alice", "1abc", "a b c", new string('a', 33), "ali:ce" })
        {
            Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest(bad)));
        }
        var garbage = await http.PostAsync(RegistrationApi.Accounts, new StringContent("{not json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [Fact]
    public async Task A_body_that_is_not_a_JSON_object_or_is_too_large_says_so_and_registers_nobody()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = Http(fx);
        async Task<(HttpStatusCode, string?, string?)> Post(string path, HttpContent content)
        {
            var response = await http.PostAsync(path, content);
            var error = await response.Content.ReadFromJsonAsync<ApiError>(ParleyJson.Options);
            return (response.StatusCode, error?.Code, error?.Message);
        }
        foreach (var garbage in new[] { "{not json", "null", "[]", "\"alice\"", "{\"user\": 5}" })
        {
            var (status, code, message) = await Post(RegistrationApi.Accounts, new StringContent(garbage));
            Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), (status, code));
            Assert.Contains("not a JSON object", message, StringComparison.Ordinal);
        }
        var tooLarge = new StringContent($"{{\"user\":\"alice\",\"device_name\":\"{new string('x', 20_000)}\"}}");
        var (largeStatus, largeCode, _) = await Post(RegistrationApi.Accounts, tooLarge);
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "too_large"), (largeStatus, largeCode));

        // None of them registered alice; linking takes no body at all, but not a broken one.
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        using var link = new HttpRequestMessage(HttpMethod.Post, RegistrationApi.Devices) { Content = new StringContent("{\"device_name\":") };
        link.Headers.Authorization = RawClient.Basic(alice);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(link)).StatusCode);
        Assert.Equal(2u, (await RawClient.LinkAsync(fx.Server, alice)).DeviceId);
    }

    [Fact]
    public async Task A_device_name_that_changes_text_direction_or_holds_control_characters_is_refused_everywhere_a_name_is_given()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = Http(fx);
        // Shown as "alice's phone" by anything that honours the override.
        var spoof = "\u202Eenohp s'ecila";
        foreach (var bad in new[] { spoof, "tab\there", "bell\a", "\u2066isolated\u2069", new string('x', DeviceName.MaxLength + 1) })
        {
            Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("carol", DeviceName: bad)));
            Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await PostAsync(http, ProvisioningApi.Channels, new LinkChannelRequest(bad)));
        }
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        using var link = new HttpRequestMessage(HttpMethod.Post, RegistrationApi.Devices) { Content = JsonContent.Create(new LinkDeviceRequest(spoof), options: ParleyJson.Options) };
        link.Headers.Authorization = RawClient.Basic(alice);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(link)).StatusCode);

        // Names in any script, with emoji sequences (zero-width joiners), are fine.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("carol", DeviceName: "هاتف كارول 👩‍💻"))).Status);
    }

    [Fact]
    public async Task Error_bodies_spell_apostrophes_plainly_for_the_people_who_read_them()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = Http(fx);
        var response = await http.PostAsJsonAsync(RegistrationApi.Accounts, new RegisterRequest("Alice"), ParleyJson.Options);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'_'", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_keeps_only_a_salted_hash_of_device_passwords()
    {
        await using var fx = await ServerFixture.StartAsync();
        var credentials = await RawClient.RegisterAsync(fx.Server, "alice");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(fx.DataDir, "parley.db"));
        var wal = Path.Combine(fx.DataDir, "parley.db-wal");
        if (File.Exists(wal))
        {
            using var stream = new FileStream(wal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            bytes = [.. bytes, .. copy.ToArray()];
        }
        var password = System.Text.Encoding.UTF8.GetBytes(credentials.Password);
        Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes("alice")) >= 0, "the data was read");
        Assert.True(bytes.AsSpan().IndexOf(password) < 0, "the password itself must not be stored");
    }

    [Fact]
    public async Task Code_policy_needs_the_code_the_sender_delivered_and_a_code_works_once()
    {
        var sender = new RecordingCodeSender();
        await using var fx = await ServerFixture.StartAsync(o => o.Registration.Policy = RegistrationPolicy.Code,
            services: s => s.AddSingleton<IVerificationCodeSender>(sender));
        using var http = Http(fx);
        Assert.Equal((HttpStatusCode.Forbidden, "code_required"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("carol")));
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(http, RegistrationApi.VerificationCode, new CodeRequest("carol", "+15550100"))).Status);
        var code = Assert.Single(sender.Sent);
        Assert.Equal((HttpStatusCode.Forbidden, "bad_code"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("carol", Code: code == "123456" ? "654321" : "123456")));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("carol", Code: code))).Status);
        Assert.Equal((HttpStatusCode.Forbidden, "bad_code"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("dave", Code: code)));
    }

    [Fact]
    public async Task Invite_policy_needs_an_admin_issued_token_used_once()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Registration.Policy = RegistrationPolicy.Invite;
            o.AdminToken = "admin-secret";
        });
        using var http = Http(fx);
        Assert.Equal((HttpStatusCode.Forbidden, "invite_required"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("erin")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(RegistrationApi.Invites, null)).StatusCode);

        using var admin = new HttpRequestMessage(HttpMethod.Post, RegistrationApi.Invites);
        admin.Headers.Add("X-Admin-Token", "admin-secret");
        var invite = (await (await http.SendAsync(admin)).Content.ReadFromJsonAsync<InviteResponse>(ParleyJson.Options))!.Invite;

        Assert.Equal((HttpStatusCode.Forbidden, "bad_invite"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("erin", Invite: "forged")));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("erin", Invite: invite))).Status);
        Assert.Equal((HttpStatusCode.Forbidden, "bad_invite"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("frank", Invite: invite)));
    }

    [Fact]
    public async Task Linking_needs_an_existing_device_and_stops_at_the_device_limit()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.MaxDevicesPerAccount = 3);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        Assert.Equal(2u, (await RawClient.LinkAsync(fx.Server, alice)).DeviceId);
        var third = await RawClient.LinkAsync(fx.Server, alice);
        Assert.Equal(3u, third.DeviceId);
        await using (var c = await RawClient.ConnectAsync(fx.Server, third))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Pong, (await c.RequestAsync(new ClientFrame { Ping = new Ping() })).BodyCase);
        }
        await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.LinkAsync(fx.Server, alice));
        await Assert.ThrowsAsync<HttpRequestException>(() => RawClient.LinkAsync(fx.Server, alice with { Password = "wrong" }));
    }

    [Fact]
    public async Task Registration_is_rate_limited_per_address()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.RegistrationsPerMinutePerAddress = 3);
        using var http = Http(fx);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest($"user{i}"))).Status);
        }
        Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limited"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("user9")));
    }

    [Fact]
    public async Task Registrations_from_one_IPv6_64_bit_prefix_share_one_allowance()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.Limits.RegistrationsPerMinutePerAddress = 2;
            o.TrustedProxies = ["127.0.0.0/8"];
        });
        using var http = Http(fx);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("six0"), forwardedFor: "2001:db8:1:2::1")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("six1"), forwardedFor: "2001:db8:1:2::ffff")).Status);
        Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limited"),
            await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("six2"), forwardedFor: "2001:db8:1:2:abcd:ef01:2345:6789"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("six3"), forwardedFor: "2001:db8:1:3::1")).Status);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_range_the_limit_counts_each_forwarded_client_and_elsewhere_the_header_is_ignored()
    {
        await using (var fx = await ServerFixture.StartAsync(o =>
        {
            o.Limits.RegistrationsPerMinutePerAddress = 2;
            o.TrustedProxies = ["127.0.0.0/8"];
        }))
        {
            using var http = Http(fx);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest($"first{i}"), forwardedFor: "203.0.113.7")).Status);
            }
            Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limited"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("first9"), forwardedFor: "203.0.113.7"));
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("second0"), forwardedFor: "203.0.113.8")).Status);
        }

        // Outside any trusted range the header is the client's own claim: every request counts against the socket's address.
        await using (var fx = await ServerFixture.StartAsync(o =>
        {
            o.Limits.RegistrationsPerMinutePerAddress = 2;
            o.TrustedProxies = ["10.0.0.0/8"];
        }))
        {
            using var http = Http(fx);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("third0"), forwardedFor: "203.0.113.7")).Status);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("third1"), forwardedFor: "203.0.113.8")).Status);
            Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limited"), await PostAsync(http, RegistrationApi.Accounts, new RegisterRequest("third2"), forwardedFor: "203.0.113.9"));
        }
    }

    private sealed class RecordingCodeSender : IVerificationCodeSender
    {
        public ConcurrentQueue<string> Sent { get; } = new();

        public Task SendAsync(string user, string? phone, string code, CancellationToken cancellationToken)
        {
            Sent.Enqueue(code);
            return Task.CompletedTask;
        }
    }
}
