using Parley.Fuzz.Engine;

namespace Parley.Fuzz.Targets;

/// <summary>Every fuzz target by name, started fresh (the server targets start their own server).</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "websocket-framing", "client-frame", "signal-message", "prekey-message", "sender-key-message", "sender-key-distribution", "http-json", "tus",
    ];

    public static async Task<IFuzzTarget> StartAsync(string name) => name switch
    {
        "websocket-framing" => new FramingTarget(),
        "client-frame" => await ClientFrameTarget.StartAsync(),
        "signal-message" => SignalParserTarget.SignalMessage(),
        "prekey-message" => SignalParserTarget.PreKeySignalMessage(),
        "sender-key-message" => SignalParserTarget.SenderKeyMessage(),
        "sender-key-distribution" => SignalParserTarget.DistributionMessage(),
        "http-json" => await HttpJsonTarget.StartAsync(),
        "tus" => await TusTarget.StartAsync(),
        _ => throw new ArgumentException($"unknown target {name}; known: {string.Join(", ", Names)}", nameof(name)),
    };
}
