using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Parley.Protocol;
using Parley.Server.Configuration;
using Parley.Server.Messaging;

namespace Parley.Server.Push;

/// <summary>
/// Answers the push-subscription frames of a device: validates what a client sends (every field
/// is hostile), stores it, and keeps an in-memory index of subscribed devices so the commit path
/// learns "no subscription" without touching the database.
/// </summary>
public sealed class PushSubscriptions
{
    private readonly IPushTargetStore _store;
    private readonly PushOptions _options;
    private readonly VapidKeys _vapid;
    private readonly PushAddresses _addresses;
    private readonly ConcurrentDictionary<long, byte> _subscribed = new();

    public PushSubscriptions(IPushTargetStore store, ParleyOptions options, VapidKeys vapid)
    {
        _store = store;
        _options = options.Push;
        _vapid = vapid;
        _addresses = new PushAddresses(_options);
        foreach (var device in store.Devices())
        {
            _subscribed[device] = 0;
        }
    }

    /// <summary>True when the device has a subscription; lock-free and allocation-free, for the commit path.</summary>
    public bool Has(long deviceKey) => _subscribed.ContainsKey(deviceKey);

    /// <summary>The device's subscription from the store, or null.</summary>
    public PushTarget? Find(long deviceKey) => _store.Get(deviceKey);

    /// <summary>Deletes the device's subscription (the push service said it is gone, or the device is).</summary>
    public void Forget(long deviceKey)
    {
        _store.Remove(deviceKey);
        _subscribed.TryRemove(deviceKey, out _);
    }

    /// <summary>The answer to SetPushSubscription, RemovePushSubscription or GetPushSubscription from <paramref name="deviceKey"/>.</summary>
    public ServerFrame Answer(long deviceKey, ClientFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        switch (frame.BodyCase)
        {
            case ClientFrame.BodyOneofCase.SetPush:
                if (Validate(deviceKey, frame.SetPush) is not { } target)
                {
                    return Refusal(frame.SetPush);
                }
                _store.Put(target);
                _subscribed[deviceKey] = 0;
                return new ServerFrame { Ok = new Ok() };
            case ClientFrame.BodyOneofCase.RemovePush:
                Forget(deviceKey);
                return new ServerFrame { Ok = new Ok() };
            default:
                return new ServerFrame { PushSubscription = Status(deviceKey) };
        }
    }

    private PushSubscriptionStatus Status(long deviceKey)
    {
        var status = new PushSubscriptionStatus { VapidPublicKey = ByteString.CopyFrom(_vapid.PublicKey) };
        switch (_store.Get(deviceKey))
        {
            case { Kind: PushKind.WebPush } t:
                status.Webpush = new WebPushSubscription { Endpoint = t.Url, P256Dh = ByteString.CopyFrom(t.P256dh), Auth = ByteString.CopyFrom(t.Auth) };
                break;
            case { Kind: PushKind.Gateway } t:
                status.Gateway = new GatewayPushSubscription { Url = t.Url, Token = t.Token };
                break;
        }
        return status;
    }

    private PushTarget? Validate(long deviceKey, SetPushSubscription set) => set.KindCase switch
    {
        SetPushSubscription.KindOneofCase.Webpush when UrlProblem(set.Webpush.Endpoint) is null && KeyProblem(set.Webpush) is null =>
            new PushTarget(deviceKey, PushKind.WebPush, set.Webpush.Endpoint, set.Webpush.P256Dh.ToByteArray(), set.Webpush.Auth.ToByteArray(), null),
        SetPushSubscription.KindOneofCase.Gateway when UrlProblem(set.Gateway.Url) is null && TokenProblem(set.Gateway.Token) is null =>
            new PushTarget(deviceKey, PushKind.Gateway, set.Gateway.Url, null, null, set.Gateway.Token),
        _ => null,
    };

    private ServerFrame Refusal(SetPushSubscription set)
    {
        var (code, message) = set.KindCase switch
        {
            SetPushSubscription.KindOneofCase.Webpush => UrlProblem(set.Webpush.Endpoint) ?? KeyProblem(set.Webpush)!.Value,
            SetPushSubscription.KindOneofCase.Gateway => UrlProblem(set.Gateway.Url) ?? TokenProblem(set.Gateway.Token)!.Value,
            _ => (ErrorCode.BadRequest, "set webpush or gateway"),
        };
        return MessageRouter.Fail(code, message);
    }

    /// <summary>
    /// https only (the push must be private and authentic on the way), except loopback http when
    /// the operator allows it; no user:password part (it would end up in logs and proxies); no
    /// address outside the public internet unless the operator allows it (<see cref="PushAddresses"/>).
    /// </summary>
    private (ErrorCode, string)? UrlProblem(string url)
    {
        if (url.Length > WireLimits.MaxPushUrlLength)
        {
            return (ErrorCode.TooLarge, $"the push URL is longer than {WireLimits.MaxPushUrlLength} characters");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return (ErrorCode.BadRequest, "the push URL is not an absolute URL");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return (ErrorCode.BadRequest, "the push URL must not carry a user name, password or fragment");
        }
        bool https = uri.Scheme == Uri.UriSchemeHttps;
        bool loopbackHttp = uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback && _options.AllowLoopbackHttp;
        if (!https && !loopbackHttp)
        {
            return (ErrorCode.BadRequest, "the push URL must be https");
        }
        // An address written in the URL is checked now; a name is checked after DNS, at each push.
        bool refused = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            ? !(System.Net.IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address) && _addresses.Allows(address))
            : uri.IsLoopback && !_addresses.Allows(System.Net.IPAddress.Loopback);
        return refused ? (ErrorCode.BadRequest, "the push URL must point at a public internet address") : null;
    }

    private static (ErrorCode, string)? KeyProblem(WebPushSubscription webpush)
    {
        if (webpush.Auth.Length != WireLimits.PushAuthBytes)
        {
            return (ErrorCode.BadRequest, $"auth must be {WireLimits.PushAuthBytes} bytes");
        }
        if (webpush.P256Dh.Length != WireLimits.PushP256dhBytes || webpush.P256Dh[0] != 0x04)
        {
            return (ErrorCode.BadRequest, $"p256dh must be an uncompressed P-256 point of {WireLimits.PushP256dhBytes} bytes");
        }
        // A point off the curve would make every push fail (or leak key bits in a weak ECDH).
        var key = webpush.P256Dh.Span;
        try
        {
            using var ecdh = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = key[1..33].ToArray(), Y = key[33..].ToArray() },
            });
        }
        catch (CryptographicException)
        {
            return (ErrorCode.BadRequest, "p256dh is not a point on P-256");
        }
        return null;
    }

    private static (ErrorCode, string)? TokenProblem(string token)
    {
        if (Encoding.UTF8.GetByteCount(token) > WireLimits.MaxPushTokenBytes)
        {
            return (ErrorCode.TooLarge, $"the gateway token is longer than {WireLimits.MaxPushTokenBytes} bytes");
        }
        return token.Length == 0 ? (ErrorCode.BadRequest, "the gateway token is empty") : null;
    }
}
