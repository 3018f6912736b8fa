namespace Parley.Server.Push;

/// <summary>
/// One device's push subscription as stored: for <see cref="PushKind.WebPush"/> the endpoint with
/// <see cref="P256dh"/> and <see cref="Auth"/>; for <see cref="PushKind.Gateway"/> the URL with <see cref="Token"/>.
/// </summary>
public sealed record PushTarget(long DeviceKey, PushKind Kind, string Url, byte[]? P256dh, byte[]? Auth, string? Token);
