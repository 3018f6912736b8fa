using System.Net;
using System.Net.Http.Json;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>The link relay's HTTP calls with hostile or broken input (the SDK's linking is tested end to end).</summary>
public sealed class ProvisioningTests
{
    [Fact]
    public async Task An_answer_that_is_not_base64_or_too_long_is_refused_and_the_channel_still_takes_one_of_the_largest_size()
    {
        await using var fx = await ServerFixture.StartAsync();
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUri };
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var opened = await (await http.PostAsJsonAsync(ProvisioningApi.Channels, new LinkChannelRequest("tablet"), ParleyJson.Options))
            .Content.ReadFromJsonAsync<LinkChannel>(ParleyJson.Options);
        var path = $"{ProvisioningApi.Channels}/{opened!.Channel}";

        async Task<HttpStatusCode> AnswerAsync(string envelope)
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, path) { Content = JsonContent.Create(new ProvisionEnvelope(envelope), options: ParleyJson.Options) };
            put.Headers.Authorization = RawClient.Basic(alice);
            return (await http.SendAsync(put)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.BadRequest, await AnswerAsync("!!!not base64"));
        Assert.Equal(HttpStatusCode.BadRequest, await AnswerAsync(Convert.ToBase64String(new byte[WireLimits.MaxProvisioningEnvelopeBytes + 1])));
        // The largest sealed message fits the call's body, although the base64 is over 16 KiB.
        var good = Convert.ToBase64String(new byte[WireLimits.MaxProvisioningEnvelopeBytes]);
        Assert.Equal(HttpStatusCode.NoContent, await AnswerAsync(good));
        var waited = await (await http.GetAsync(path)).Content.ReadFromJsonAsync<ProvisionEnvelope>(ParleyJson.Options);
        Assert.Equal(good, waited!.Envelope);
    }
}
