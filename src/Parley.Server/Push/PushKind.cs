namespace Parley.Server.Push;

/// <summary>How a device is woken. The numbers are stored: never renumber.</summary>
public enum PushKind
{
    /// <summary>RFC 8030 Web Push, encrypted (RFC 8291) and VAPID-signed (RFC 8292); also UnifiedPush.</summary>
    WebPush = 1,

    /// <summary>An operator's HTTP JSON gateway that relays to FCM, APNs or anything else.</summary>
    Gateway = 2,
}
