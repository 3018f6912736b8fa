using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Server.Tests.Push;

/// <summary>One Web Push subscription of <see cref="LocalPushService"/>: the endpoint and the device's keys.</summary>
public sealed record PushSubscriber(string Id, Uri Endpoint, ECDiffieHellman Key, byte[] Auth)
{
    /// <summary>The uncompressed public key (65 bytes).</summary>
    public byte[] P256dh { get; } = Uncompressed(Key);

    public ClientFrame SetFrame() => new()
    {
        SetPush = new SetPushSubscription
        {
            Webpush = new WebPushSubscription { Endpoint = Endpoint.ToString(), P256Dh = ByteString.CopyFrom(P256dh), Auth = ByteString.CopyFrom(Auth) },
        },
    };

    private static byte[] Uncompressed(ECDiffieHellman key)
    {
        var q = key.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }
}
