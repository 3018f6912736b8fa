namespace Parley.Server.Configuration;

/// <summary>
/// Every server-side limit, in one place, with why it has its value. Wire limits both sides
/// share are in Parley.Protocol.WireLimits.
/// </summary>
public sealed class LimitOptions
{
    /// <summary>
    /// Concurrent WebSocket connections. 0 = derive from the process's open-file limit, keeping
    /// 512 descriptors for the database, listeners and HTTP calls, so the server refuses cleanly
    /// (close 1013) before the kernel refuses accept().
    /// </summary>
    public int MaxConnections { get; set; }

    /// <summary>Sustained frames per second per connection: far above a person typing, far below a flood.</summary>
    public int FramesPerSecond { get; set; } = 200;

    /// <summary>Burst allowance above the sustained rate, for reconnect catch-up (batched acks).</summary>
    public int FrameBurst { get; set; } = 400;

    /// <summary>A connection still over its rate after this many refused frames is closed (1008).</summary>
    public int MaxRefusedFrames { get; set; } = 1000;

    /// <summary>Account registrations per minute per remote address: stops name squatting scripts.</summary>
    public int RegistrationsPerMinutePerAddress { get; set; } = 30;

    /// <summary>Devices per account: a phone, a few desktops and a browser.</summary>
    public int MaxDevicesPerAccount { get; set; } = 8;

    /// <summary>
    /// Frames waiting to be written to one connection (responses, live envelopes, typing). When
    /// full, live envelopes fall back to the durable queue and ephemeral frames are dropped, so a
    /// client that does not read cannot grow server memory.
    /// </summary>
    public int OutboundQueueFrames { get; set; } = 256;

    /// <summary>Envelopes sent to a connection and not yet acked; the server waits for acks beyond it.</summary>
    public int MaxInFlight { get; set; } = 1000;

    /// <summary>Seconds without any frame before a connection is closed (clients ping every 25 s).</summary>
    public int IdleTimeoutSeconds { get; set; } = 75;

    /// <summary>
    /// Seconds from TCP accept to a complete WebSocket upgrade request (TLS handshake included).
    /// A real client needs well under one; 10 s allows a slow mobile link, and a socket that sends
    /// nothing (or a byte a second) is dropped instead of held forever.
    /// </summary>
    public int UpgradeTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds a new connection has, after its upgrade request, to send Hello.</summary>
    public int HelloTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Sockets not yet authenticated (TCP accepted, TLS, upgrade, before Hello) from one client
    /// address. 64 is more than a household behind one NAT opens at once; beyond it new sockets
    /// from that address are dropped at accept, so one address cannot hold the server's capacity.
    /// </summary>
    public int MaxUnauthenticatedPerAddress { get; set; } = 64;

    /// <summary>
    /// Percent of <see cref="MaxConnections"/> that sockets not yet authenticated may take, all
    /// addresses together. The rest is kept for devices that said Hello, so a storm of silent
    /// sockets from many addresses still leaves room for real clients to log in.
    /// </summary>
    public int UnauthenticatedSharePercent { get; set; } = 25;

    /// <summary>
    /// Seconds a write to one connection may wait for the peer to read before the connection is
    /// aborted. A client that stops reading otherwise pins the send loop and its buffers; 30 s
    /// outlasts any real stall of a live link (clients ping every 25 s).
    /// </summary>
    public int SendTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Bytes of envelopes sent to one connection and not yet acked. With <see cref="MaxInFlight"/>
    /// alone a connection could pin 1000 frames of 512 KB; 2 MB still holds four of the largest
    /// frames and hundreds of ordinary messages, enough to keep a fast link busy.
    /// </summary>
    public int MaxInFlightBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// Bytes of requests of one connection waiting for their answer (mostly sends in group
    /// commit); reading pauses beyond it. 2 MB holds four of the largest frames, hundreds of
    /// ordinary sends, and bounds what one connection makes the server hold to 2 MB.
    /// </summary>
    public int MaxPendingRequestBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Undelivered envelopes are deleted after this many days.</summary>
    public int EnvelopeTtlDays { get; set; } = 30;

    /// <summary>Days a (sender device, message id) is remembered for dedup; resends after that are deduped by clients.</summary>
    public int DedupDays { get; set; } = 7;

    /// <summary>Prekey bundle fetches per minute per requesting account: enough to start many chats, too few to drain others' one-time prekeys.</summary>
    public int BundleFetchesPerMinute { get; set; } = 60;

    /// <summary>One-time prekeys of each kind kept per device; uploads beyond it are refused (a device needs ~100).</summary>
    public int MaxStoredPreKeys { get; set; } = 200;

    /// <summary>One-time prekeys of each kind in one upload.</summary>
    public int MaxPreKeysPerUpload { get; set; } = 100;

    /// <summary>Below this many one-time prekeys the device is told to upload more.</summary>
    public int PreKeysLowThreshold { get; set; } = 10;

    /// <summary>A signed prekey older than this is due for rotation (the device is told at connect).</summary>
    public int SignedPreKeyRotationDays { get; set; } = 7;
}
