using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>/v1/metrics: the counts an operator and the load generator read.</summary>
public sealed class MetricsTests
{
    private static async Task<JsonElement> MetricsAsync(ServerFixture fx)
    {
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/v1/metrics"));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task Metrics_count_connections_and_report_garbage_collection_as_running_totals()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var before = await MetricsAsync(fx);
        Assert.Equal(0, before.GetProperty("authenticated").GetInt32());

        await using (var c = await RawClient.ConnectAsync(fx.Server, alice))
        {
            var during = await MetricsAsync(fx);
            Assert.Equal(1, during.GetProperty("authenticated").GetInt32());
            Assert.Equal(1, during.GetProperty("accounts").GetInt32());
        }

        GC.Collect(); // the server runs in this process: one collection it must count
        var after = await MetricsAsync(fx);
        Assert.True(after.GetProperty("gc_collections_total").GetInt64() > before.GetProperty("gc_collections_total").GetInt64());
        Assert.True(after.GetProperty("gc_gen2_collections_total").GetInt64() > before.GetProperty("gc_gen2_collections_total").GetInt64());
        Assert.True(after.GetProperty("allocated_bytes_total").GetInt64() > before.GetProperty("allocated_bytes_total").GetInt64());
        Assert.True(after.GetProperty("gc_pause_ms_total").GetInt64() >= before.GetProperty("gc_pause_ms_total").GetInt64());
    }
}
