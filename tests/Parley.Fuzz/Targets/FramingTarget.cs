using System.IO.Pipelines;
using Google.Protobuf;
using Parley.Fuzz.Engine;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.Fuzz.Targets;

/// <summary>
/// The gateway's RFC 6455 reader (<see cref="PipeWebSocket"/>) on an in-memory pipe: the input is
/// the client's byte stream, written in input-determined chunks so frames also arrive split.
/// Property: reads never throw, every read returns a frame kind the gateway handles, payloads keep
/// within their limits, and the stream ends (Gone, Close or Violation) once the input is used up.
/// </summary>
public sealed class FramingTarget : IFuzzTarget
{
    /// <summary>A small message limit for half the inputs, so "too big" is reachable with small inputs.</summary>
    private const int SmallLimit = 512;

    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, useSynchronizationContext: false);

    public string Name => "websocket-framing";

    public int Workers => 1;

    public IReadOnlyList<byte[]> Seeds { get; } = MakeSeeds();

    private static List<byte[]> MakeSeeds()
    {
        var hello = new ClientFrame { RequestId = 1, Hello = new Hello { User = "alice", DeviceId = 1, Password = "secret", ProtocolVersions = { 1 } } }.ToByteArray();
        var big = new ClientFrame { RequestId = 2, Send = new SendMessage { Recipient = "bob", Payloads = { new DevicePayload { User = "bob", DeviceId = 1, Payload = ByteString.CopyFrom(new byte[600]) } } } }.ToByteArray();
        byte[] close = [0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e'];
        return
        [
            WsFrame.Join([WsFrame.Of(WsFrame.Binary, hello)], []),
            WsFrame.Join([WsFrame.Of(WsFrame.Binary, hello[..5], fin: false), WsFrame.Of(WsFrame.Ping, "are you there"u8.ToArray()),
                WsFrame.Of(WsFrame.Continuation, hello[5..], fin: true), WsFrame.Of(WsFrame.Pong, [])], []),
            WsFrame.Join([WsFrame.Of(WsFrame.Binary, big), WsFrame.Of(WsFrame.Close, close)], []),
            WsFrame.Join([WsFrame.Of(WsFrame.Ping, []), WsFrame.Of(WsFrame.Binary, []), WsFrame.Of(WsFrame.Close, [])], []),
        ];
    }

    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        var random = mutator.Random;
        var frames = WsFrame.Split(input, out var tail);
        if (frames.Count == 0 || random.Next(6) == 0)
        {
            return mutator.MutateBytes(input, other);
        }
        for (int n = 1 + random.Next(3); n > 0; n--)
        {
            int i = random.Next(frames.Count);
            var f = frames[i];
            frames[i] = random.Next(12) switch
            {
                0 => f with { First = (byte)(f.First ^ 0x80) },                                // FIN
                1 => f with { First = (byte)(f.First ^ (0x10 << random.Next(3))) },           // a reserved bit
                2 => f with { First = (byte)((f.First & 0xF0) | random.Next(16)) },           // opcode
                3 => f with { Masked = !f.Masked },
                4 => f with { LengthForm = random.Next(3) },
                5 => f with { LengthLie = random.Next(4) == 0 ? long.MinValue : random.Next(-4, 5) },
                6 => f with { Payload = f.Payload.Length > 0 && random.Next(2) == 0 ? ProtoMutator.Mutate(f.Payload, mutator) : mutator.MutateBytes(f.Payload) },
                7 => f with { Payload = new byte[random.Next(4) == 0 ? random.Next(126, 2000) : random.Next(0, 130)] },
                _ => f,
            };
            switch (random.Next(8))
            {
                case 0:
                    frames.Insert(random.Next(frames.Count + 1), WsFrame.Of((byte)new[] { 0, 2, 8, 9, 10 }[random.Next(5)], new byte[random.Next(0, 130)], fin: random.Next(3) > 0));
                    break;
                case 1 when frames.Count > 1:
                    frames.RemoveAt(random.Next(frames.Count));
                    break;
                case 2:
                    frames.Insert(random.Next(frames.Count + 1), frames[random.Next(frames.Count)]);
                    break;
                case 3 when frames[i].Payload.Length > 1:
                {
                    // Fragment it: the first part without FIN, the rest as a continuation.
                    var g = frames[i];
                    int cut = random.Next(1, g.Payload.Length);
                    frames[i] = g with { First = (byte)(g.First & 0x7F), Payload = g.Payload[..cut] };
                    frames.Insert(i + 1, WsFrame.Of(WsFrame.Continuation, g.Payload[cut..]));
                    break;
                }
            }
        }
        if (random.Next(8) == 0)
        {
            tail = mutator.MutateBytes(tail, other);
        }
        var bytes = WsFrame.Join(frames, tail);
        return bytes.Length > 3 * Mutator.MaxInputBytes ? bytes[..(3 * Mutator.MaxInputBytes)] : bytes;
    }

    public async ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        var fromClient = new Pipe(Inline);
        var toClient = new Pipe(Inline);
        int limit = input.Length % 2 == 0 ? SmallLimit : WireLimits.MaxFrameBytes;
        var socket = new PipeWebSocket(new Duplex(fromClient.Reader, toClient.Writer), () => { }, limit);
        var kinds = new List<InboundKind>();
        string reason = "";
        bool ended = false;

        bool Take(InboundFrame frame)
        {
            kinds.Add(frame.Kind);
            switch (frame.Kind)
            {
                case InboundKind.Message when frame.Payload.Length > limit:
                    throw new PropertyViolationException($"a {frame.Payload.Length}-byte message passed the {limit}-byte limit");
                case InboundKind.Ping when frame.Payload.Length > 125:
                    throw new PropertyViolationException($"a {frame.Payload.Length}-byte ping passed");
                case InboundKind.Message or InboundKind.Ping:
                    break;
                case InboundKind.Violation:
                    reason = $"{(int?)frame.CloseStatus} {frame.Code}";
                    return true;
                case InboundKind.Close or InboundKind.Gone:
                    return true;
                default:
                    throw new PropertyViolationException($"unknown frame kind {frame.Kind}");
            }
            if (kinds.Count > input.Length / 2 + 1)
            {
                throw new PropertyViolationException($"{kinds.Count} frames out of {input.Length} bytes");
            }
            return false;
        }

        // Chunk sizes come from the input itself, so a run replays exactly.
        var chunks = new Random(input.Length * 31 + (input.Length > 0 ? input[^1] : 0));
        var pending = socket.ReadAsync(CancellationToken.None).AsTask();
        int at = 0;
        while (at < input.Length && !ended)
        {
            int size = Math.Min(input.Length - at, chunks.Next(4) == 0 ? 1 + chunks.Next(4) : 1 + chunks.Next(input.Length));
            await fromClient.Writer.WriteAsync(input.AsMemory(at, size));
            at += size;
            while (pending.IsCompleted && !ended)
            {
                ended = Take(pending.Result);
                if (!ended)
                {
                    pending = socket.ReadAsync(CancellationToken.None).AsTask();
                }
            }
        }
        await fromClient.Writer.CompleteAsync();
        while (!ended)
        {
            if (!pending.IsCompleted)
            {
                throw new PropertyViolationException("a read is still waiting after the input ended");
            }
            ended = Take(pending.Result);
            if (!ended)
            {
                pending = socket.ReadAsync(CancellationToken.None).AsTask();
            }
        }
        socket.Complete();
        return kinds[^1] + " " + reason + (kinds.Contains(InboundKind.Message) ? " +message" : "") + (kinds.Contains(InboundKind.Ping) ? " +ping" : "");
    }

    public Task CheckStillServingAsync() => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
