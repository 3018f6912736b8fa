namespace Parley.Client;

/// <summary>
/// This device's push subscription as the server holds it. <see cref="Kind"/> is "none", "webpush"
/// or "gateway"; <see cref="VapidPublicKey"/> (65 bytes) is the server's key, the
/// applicationServerKey to subscribe a browser or UnifiedPush distributor with.
/// </summary>
public sealed record PushSubscriptionInfo(string Kind, string? Url, string? Token, byte[] VapidPublicKey);
