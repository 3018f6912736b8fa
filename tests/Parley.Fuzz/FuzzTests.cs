using Parley.Fuzz.Engine;
using Parley.Fuzz.Targets;

namespace Parley.Fuzz;

/// <summary>
/// The CI budget: a fixed number of inputs with a fixed seed per target (a few seconds each).
/// Each test fails on any input that broke the property, or if the target no longer serves a
/// good client afterwards. Longer runs: Program (see docs/reliability.md).
/// </summary>
public sealed class FuzzTests
{
    private const int Seed = 20261130;

    private static async Task NoFindingsAsync(string name, long inputs)
    {
        await using var target = await FuzzTargets.StartAsync(name);
        var report = await FuzzRunner.RunAsync(target, inputs, Seed, TimeSpan.FromSeconds(20));
        Assert.True(report.FindingCount == 0, report.Summary + "\n" + report.Describe());
        Assert.Equal(inputs, report.Inputs);
        await target.CheckStillServingAsync();
    }

    [Fact]
    public Task WebSocket_framing_never_throws_and_always_ends() => NoFindingsAsync("websocket-framing", 20_000);

    [Fact]
    public Task ClientFrames_are_answered_or_closed_with_documented_codes_and_the_server_keeps_serving() => NoFindingsAsync("client-frame", 3_000);

    [Fact]
    public Task SignalMessage_parser_throws_only_InvalidMessageException() => NoFindingsAsync("signal-message", 30_000);

    [Fact]
    public Task PreKeySignalMessage_parser_throws_only_InvalidMessageException() => NoFindingsAsync("prekey-message", 30_000);

    [Fact]
    public Task SenderKeyMessage_parser_throws_only_crypto_exceptions() => NoFindingsAsync("sender-key-message", 30_000);

    [Fact]
    public Task SenderKeyDistributionMessage_parser_throws_only_crypto_exceptions() => NoFindingsAsync("sender-key-distribution", 30_000);

    [Fact]
    public Task HTTP_JSON_endpoints_never_answer_500_and_the_server_keeps_serving() => NoFindingsAsync("http-json", 2_000);

    [Fact]
    public Task Tus_and_download_endpoints_never_answer_500_and_the_server_keeps_serving() => NoFindingsAsync("tus", 2_000);

    [Fact]
    public void The_same_seed_makes_the_same_mutations()
    {
        var seed = new FramingTarget().Seeds[1];
        var a = new Mutator(7);
        var b = new Mutator(7);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(ProtoMutator.Mutate(seed, a), ProtoMutator.Mutate(seed, b));
        }
    }
}
