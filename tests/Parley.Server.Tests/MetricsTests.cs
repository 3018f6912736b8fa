using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>
/// /v1/metrics: the Parley.Server meter in Prometheus text format, for the admin token only. Run
/// alone: every server in this process publishes a Parley.Server meter, and a scrape would see the
/// other tests' servers too.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class MetricsTests
{
    private const string Token = "metrics-test-token";

    [Fact]
    public async Task Metrics_answer_only_a_bearer_with_the_admin_token()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.AdminToken = Token);
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(http, new AuthenticationHeaderValue("Bearer", "wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(http, new AuthenticationHeaderValue("Basic", Token)));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(http, new AuthenticationHeaderValue("Bearer", Token)));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/health")).StatusCode);
    }

    [Fact]
    public async Task Metrics_are_off_while_no_admin_token_is_set()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(http, new AuthenticationHeaderValue("Bearer", "x")));
    }

    [Fact]
    public async Task Metrics_count_connections_and_report_garbage_collection_as_running_totals()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.AdminToken = Token);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var before = await MetricsAsync(fx);
        Assert.Equal(0, before["parley_connections_authenticated"]);
        Assert.True(before["parley_connections_max"] > 0);

        await using (var c = await RawClient.ConnectAsync(fx.Server, alice))
        {
            var during = await MetricsAsync(fx);
            Assert.Equal(1, during["parley_connections_authenticated"]);
            Assert.Equal(1, during["parley_connections_open"]);
            Assert.Equal(1, during["parley_accounts"]);
        }

        GC.Collect(); // the server runs in this process: one collection it must count
        var after = await MetricsAsync(fx);
        Assert.True(after["parley_gc_collections_total{generation=\"0\"}"] > before["parley_gc_collections_total{generation=\"0\"}"]);
        Assert.True(after["parley_gc_collections_total{generation=\"2\"}"] > before["parley_gc_collections_total{generation=\"2\"}"]);
        Assert.True(after["parley_gc_allocated_bytes_total"] > before["parley_gc_allocated_bytes_total"]);
        Assert.True(after["parley_gc_pause_milliseconds_total"] >= before["parley_gc_pause_milliseconds_total"]);
        Assert.True(after["parley_gc_managed_heap_bytes"] > 0);
        Assert.True(after["parley_gc_heap_bytes"] > 0);
        Assert.True(after["parley_process_working_set_bytes"] > 0);
        Assert.Equal(0, after["parley_connections_refused_total"]);
        // The connection's receive and send loops ran on the thread pool in between.
        Assert.True(after["parley_threadpool_completed_items_total"] > before["parley_threadpool_completed_items_total"]);
        Assert.True(after["parley_lock_contentions_total"] >= before["parley_lock_contentions_total"]);
    }

    [Fact]
    public async Task Refusals_by_the_abuse_limits_are_counted_by_limit_and_nothing_is_counted_before_one()
    {
        await using var fx = await ServerFixture.StartAsync(o =>
        {
            o.AdminToken = Token;
            (o.Limits.MessageBurstPerRecipient, o.Limits.MessagesPerSecondPerRecipient) = (1, 0.001);
        });
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var mallory = await RawClient.RegisterAsync(fx.Server, "mallory");
        await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var m = await RawClient.ConnectAsync(fx.Server, mallory);
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob"))).BodyCase);
        // Accepted requests count nothing: the counter has no series yet.
        Assert.DoesNotContain((await MetricsAsync(fx)).Keys, k => k.StartsWith("parley_limits_refused", StringComparison.Ordinal));

        Assert.Equal(ErrorCode.RateLimited, (await a.RequestAsync(Wire.Send("bob"))).Error.Code);
        Assert.Equal(ErrorCode.RateLimited, (await a.RequestAsync(Wire.Send("bob"))).Error.Code);
        var typing = new ClientFrame { Typing = new Protocol.Typing { Peer = "bob", Typing_ = true } };
        Assert.Equal(ErrorCode.Forbidden, (await m.RequestAsync(typing)).Error.Code);

        var after = await MetricsAsync(fx);
        Assert.Equal(2, after["parley_limits_refused_total{limit=\"recipient_rate\"}"]);
        Assert.Equal(1, after["parley_limits_refused_total{limit=\"typing_forbidden\"}"]);
        Assert.False(after.ContainsKey("parley_limits_refused_total{limit=\"sender_rate\"}"));
    }

    private static async Task<HttpStatusCode> StatusWith(HttpClient http, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/metrics");
        request.Headers.Authorization = authorization;
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Each sample of the scrape as series (name and labels, as written) → value.</summary>
    private static async Task<Dictionary<string, double>> MetricsAsync(ServerFixture fx)
    {
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var text = await http.GetStringAsync("/v1/metrics");
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }
            int end = line.IndexOf('}', StringComparison.Ordinal) is var brace and >= 0 ? brace + 1 : line.IndexOf(' ', StringComparison.Ordinal);
            var value = line[end..].Trim().Split(' ')[0];
            // A series without labels is written with empty braces: "name{} value".
            samples[line[..end].Replace("{}", "", StringComparison.Ordinal)] = double.Parse(value, CultureInfo.InvariantCulture);
        }
        return samples;
    }
}
