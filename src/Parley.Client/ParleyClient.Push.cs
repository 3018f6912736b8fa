using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Client;

// Push subscriptions: how the server wakes this device when it has no connection. The server
// stores one per device, so these calls need not be repeated after a reconnect.
public sealed partial class ParleyClient
{
    /// <summary>
    /// Subscribes this device to Web Push (a browser's PushSubscription, or a UnifiedPush
    /// distributor's endpoint), replacing any subscription it had. Throws
    /// <see cref="ArgumentException"/> for keys of the wrong size and <see cref="ParleyException"/>
    /// when the server refuses (for example an endpoint that is not https).
    /// </summary>
    public async Task SetWebPushAsync(Uri endpoint, ReadOnlyMemory<byte> p256dh, ReadOnlyMemory<byte> auth, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (p256dh.Length != WireLimits.PushP256dhBytes)
        {
            throw new ArgumentException($"p256dh must be {WireLimits.PushP256dhBytes} bytes (an uncompressed P-256 key), not {p256dh.Length}", nameof(p256dh));
        }
        if (auth.Length != WireLimits.PushAuthBytes)
        {
            throw new ArgumentException($"auth must be {WireLimits.PushAuthBytes} bytes, not {auth.Length}", nameof(auth));
        }
        var webpush = new WebPushSubscription { Endpoint = endpoint.AbsoluteUri, P256Dh = ByteString.CopyFrom(p256dh.Span), Auth = ByteString.CopyFrom(auth.Span) };
        await _connection.RequestAsync(() => new ClientFrame { SetPush = new SetPushSubscription { Webpush = webpush } }, cancellationToken);
    }

    /// <summary>
    /// Subscribes this device through an operator's push gateway (which relays to FCM, APNs...),
    /// replacing any subscription it had. The server sends the gateway <paramref name="token"/> and nothing else.
    /// </summary>
    public async Task SetPushGatewayAsync(Uri gateway, string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentException.ThrowIfNullOrEmpty(token);
        var subscription = new GatewayPushSubscription { Url = gateway.AbsoluteUri, Token = token };
        await _connection.RequestAsync(() => new ClientFrame { SetPush = new SetPushSubscription { Gateway = subscription } }, cancellationToken);
    }

    /// <summary>Removes this device's push subscription (no-op when it has none): the server stops waking it.</summary>
    public async Task RemovePushAsync(CancellationToken cancellationToken = default) =>
        await _connection.RequestAsync(() => new ClientFrame { RemovePush = new RemovePushSubscription() }, cancellationToken);

    /// <summary>This device's push subscription as the server holds it, with the server's VAPID key.</summary>
    public async Task<PushSubscriptionInfo> GetPushAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _connection.RequestAsync(() => new ClientFrame { GetPush = new GetPushSubscription() }, cancellationToken);
        var status = answer.PushSubscription ?? throw new ParleyException(ErrorCode.BadRequest, "The server did not answer GetPushSubscription with PushSubscriptionStatus.");
        var vapid = status.VapidPublicKey.ToByteArray();
        return status.KindCase switch
        {
            PushSubscriptionStatus.KindOneofCase.Webpush => new PushSubscriptionInfo("webpush", status.Webpush.Endpoint, null, vapid),
            PushSubscriptionStatus.KindOneofCase.Gateway => new PushSubscriptionInfo("gateway", status.Gateway.Url, status.Gateway.Token, vapid),
            _ => new PushSubscriptionInfo("none", null, null, vapid),
        };
    }
}
