namespace Parley.Protocol;

/// <summary>
/// Limits both sides of the wire agree on. Server-only limits live in the server's ParleyOptions.
/// </summary>
public static class WireLimits
{
    /// <summary>
    /// Largest WebSocket frame either side sends. A message carries one payload per device
    /// (a user may have several devices and its own other devices get copies), so this is
    /// several times <see cref="MaxPayloadBytes"/>.
    /// </summary>
    public const int MaxFrameBytes = 512 * 1024;

    /// <summary>Largest opaque payload per device: text and media pointers, not media itself.</summary>
    public const int MaxPayloadBytes = 64 * 1024;

    /// <summary>Length of a message id (a UUIDv7).</summary>
    public const int MessageIdBytes = 16;

    /// <summary>Largest number of device copies in one send (recipient's and own devices).</summary>
    public const int MaxPayloadsPerSend = 32;

    /// <summary>
    /// Largest serialized <c>SignedDeviceList</c>: a device entry is about 50 bytes, so 4 KiB holds
    /// far more devices than any account may have (server setting MaxDevicesPerAccount) with room to spare.
    /// </summary>
    public const int MaxSignedDeviceListBytes = 4 * 1024;

    /// <summary>Largest number of devices in a signed device list: no more than one send can address.</summary>
    public const int MaxListedDevices = MaxPayloadsPerSend;

    /// <summary>
    /// Largest sealed provisioning message a relay carries: credentials, two keys and a signed list
    /// are about 5 KiB at most (<see cref="MaxSignedDeviceListBytes"/> of them the list).
    /// </summary>
    public const int MaxProvisioningEnvelopeBytes = 16 * 1024;

    /// <summary>Largest number of seqs in one Ack or ids in one ReadReceipt.</summary>
    public const int MaxIdsPerFrame = 1024;

    /// <summary>User names: 3–32 of a-z, 0-9, '_', '.', '-'; lower case so names are unique without folding.</summary>
    public const int MaxUserNameLength = 32;

    /// <summary>
    /// Longest push endpoint or gateway URL. Browser and UnifiedPush endpoints are 100–500
    /// characters; the server stores one per device and calls it, so it stays small.
    /// </summary>
    public const int MaxPushUrlLength = 1024;

    /// <summary>Longest push gateway token in UTF-8 bytes: FCM tokens are about 160, APNs tokens 64; room to spare.</summary>
    public const int MaxPushTokenBytes = 1024;

    /// <summary>Web Push p256dh key: an uncompressed P-256 point (RFC 8291).</summary>
    public const int PushP256dhBytes = 65;

    /// <summary>Web Push authentication secret (RFC 8291).</summary>
    public const int PushAuthBytes = 16;

    /// <summary>
    /// Largest attachment plaintext: 100 MiB covers phone videos of a few minutes and most
    /// documents, while a day's quota still holds many of them (server setting Media.BytesPerDayPerAccount).
    /// </summary>
    public const long MaxAttachmentBytes = 100L * 1024 * 1024;

    /// <summary>
    /// Largest attachment blob a client uploads for <see cref="MaxAttachmentBytes"/> of plaintext:
    /// Signal's size buckets pad by less than 5%, and IV, cipher padding and MAC add at most 64 bytes.
    /// </summary>
    public const long MaxAttachmentBlobBytes = MaxAttachmentBytes + (MaxAttachmentBytes / 20) + 64;
    /// <summary>
    /// Plaintext bytes of one history chunk (a <c>HistoryChunk</c>): 1 MiB holds a few thousand
    /// messages, is read and checked whole in memory, and a lost transfer repeats little.
    /// </summary>
    public const int HistoryChunkBytes = 1024 * 1024;

    /// <summary>
    /// Most history chunks one link carries: 48 pointers (under 190 bytes each, 9 KiB) fit the sealed
    /// provisioning message beside credentials, keys and a full list (under 5 KiB; <see cref="MaxProvisioningEnvelopeBytes"/>),
    /// and 48 MiB of text is months of a busy account's conversations. Over it, the oldest are left out.
    /// </summary>
    public const int MaxHistoryChunks = 48;
}
