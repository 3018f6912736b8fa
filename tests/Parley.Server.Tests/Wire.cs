using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>Small builders for the frames tests send.</summary>
public static class Wire
{
    public static ClientFrame Send(string recipient, IEnumerable<(string User, uint Device)> devices, byte[]? messageId = null, string text = "hi")
    {
        var send = new SendMessage
        {
            MessageId = ByteString.CopyFrom(messageId ?? MessageId.New()),
            Recipient = recipient,
            SentAt = 1,
        };
        foreach (var (user, device) in devices)
        {
            send.Payloads.Add(new DevicePayload { User = user, DeviceId = device, Payload = ByteString.CopyFromUtf8(text) });
        }
        return new ClientFrame { Send = send };
    }

    public static ClientFrame Send(string recipient, uint device = 1, byte[]? messageId = null, string text = "hi") =>
        Send(recipient, [(recipient, device)], messageId, text);

    public static ClientFrame Ack(params ulong[] seqs)
    {
        var ack = new Ack();
        ack.Seqs.AddRange(seqs);
        return new ClientFrame { Ack = ack };
    }
}
