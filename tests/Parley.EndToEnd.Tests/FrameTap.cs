using System.Collections.Concurrent;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>Keeps a copy of every frame the server's gateway handles, both ways.</summary>
public sealed class FrameTap : IFrameObserver
{
    private readonly ConcurrentQueue<(bool Inbound, byte[] Bytes)> _frames = new();

    public IReadOnlyList<(bool Inbound, byte[] Bytes)> Frames => [.. _frames];

    public void OnFrame(bool inbound, ReadOnlySpan<byte> frame) => _frames.Enqueue((inbound, frame.ToArray()));

    /// <summary>Every SendMessage clients sent, parsed.</summary>
    public IReadOnlyList<SendMessage> Sends => [.. Frames
        .Where(f => f.Inbound)
        .Select(f => ClientFrame.Parser.ParseFrom(f.Bytes))
        .Where(f => f.BodyCase == ClientFrame.BodyOneofCase.Send)
        .Select(f => f.Send)];

    /// <summary>Every SendGroupMessage clients sent, parsed.</summary>
    public IReadOnlyList<SendGroupMessage> GroupSends => [.. Frames
        .Where(f => f.Inbound)
        .Select(f => ClientFrame.Parser.ParseFrom(f.Bytes))
        .Where(f => f.BodyCase == ClientFrame.BodyOneofCase.SendGroup)
        .Select(f => f.SendGroup)];
}
