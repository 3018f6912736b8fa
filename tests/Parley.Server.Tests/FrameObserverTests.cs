using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Server.Tests;

public sealed class FrameObserverTests
{
    /// <summary>Keeps a copy of every frame; tests search it for what must (or must not) cross the wire.</summary>
    public sealed class RecordingObserver : IFrameObserver
    {
        public ConcurrentQueue<(bool Inbound, byte[] Bytes)> Frames { get; } = new();

        public void OnFrame(bool inbound, ReadOnlySpan<byte> frame) => Frames.Enqueue((inbound, frame.ToArray()));
    }

    [Fact]
    public async Task A_registered_observer_sees_every_frame_both_ways()
    {
        var observer = new RecordingObserver();
        await using var fx = await ServerFixture.StartAsync(services: s => s.AddSingleton<IFrameObserver>(observer));
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        await a.RequestAsync(Wire.Send("bob", text: "visible-marker"));
        await b.ReceiveEnvelopeAsync();

        var marker = "visible-marker"u8.ToArray();
        Assert.Contains(observer.Frames, f => f.Inbound && f.Bytes.AsSpan().IndexOf(marker) >= 0);
        Assert.Contains(observer.Frames, f => !f.Inbound && f.Bytes.AsSpan().IndexOf(marker) >= 0);
        Assert.Contains(observer.Frames, f => !f.Inbound && ServerFrame.Parser.ParseFrom(f.Bytes).BodyCase == ServerFrame.BodyOneofCase.Welcome);
    }
}
