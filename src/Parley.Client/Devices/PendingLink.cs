namespace Parley.Client.Devices;

/// <summary>What an approving device shows before it approves a link code: the name the new device gave and its key's fingerprint.</summary>
/// <param name="DeviceName">The name the new device asked for (chosen by whoever asks: show it, do not trust it).</param>
/// <param name="Fingerprint">The fingerprint of the key in the code; the new device shows the same one.</param>
/// <param name="ExpiresAt">When the code stops working.</param>
public sealed record PendingLink(string DeviceName, string Fingerprint, DateTimeOffset ExpiresAt);
