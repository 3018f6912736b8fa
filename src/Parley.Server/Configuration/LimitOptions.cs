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

    /// <summary>Devices per account: a phone, a few desktops and a browser (1 primary and 7 linked).</summary>
    public int MaxDevicesPerAccount { get; set; } = 8;

    /// <summary>
    /// How long a link code works: long enough to fetch the phone and scan it, short enough that a
    /// code seen over a shoulder or in a screenshot is soon useless.
    /// </summary>
    public int LinkCodeLifetimeMinutes { get; set; } = 5;

    /// <summary>
    /// Open provisioning channels server-wide (each is a few hundred bytes of memory until it
    /// expires). New link requests past it get 503; the registration rate limit bounds one address.
    /// </summary>
    public int MaxOpenLinkChannels { get; set; } = 10_000;

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

    /// <summary>
    /// Latest message ids remembered per sending device, within <see cref="DedupDays"/>: the dedup
    /// table is bounded by devices, not traffic. A client resends only sends it has no SENT for,
    /// which are among its latest (the SDK has one in flight at a time), so 256 leaves a wide
    /// margin; it is also how far back a READ may name a peer device's messages (a few days of a
    /// busy person's sends). About 12 KB of database per device that sent that many.
    /// </summary>
    public int DedupPerDevice { get; set; } = 256;

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

    /// <summary>
    /// Prekey bundle fetches per hour by one device for one target device. A client fetches a
    /// device's bundle once per session it starts (again only after a reset or a reinstall), so a
    /// dozen an hour is ample; beyond it the fetch is refused with RATE_LIMITED.
    /// </summary>
    public int PreKeyFetchesPerDevicePairPerHour { get; set; } = 12;

    /// <summary>
    /// One-time prekeys (an EC and an ML-KEM one count together as one) handed out per target
    /// device per hour, whoever asks: 3 an hour plus the burst is 92 a day, under the 100 EC
    /// prekeys a device uploads in one refill, so no set of accounts can empty a device that comes
    /// online once a day. (The SDK uploads 40 ML-KEM ones; past those the last-resort one serves.) Beyond the budget the
    /// bundle is served without a one-time EC key and with the last-resort ML-KEM key, as Signal
    /// does when a device runs out: the session is still forward-secret after the first reply.
    /// </summary>
    public double OneTimePreKeysPerDevicePerHour { get; set; } = 3;

    /// <summary>One-time prekeys a target device may hand out at once above the hourly rate: a new group of 20 people all starting sessions.</summary>
    public int OneTimePreKeyBurst { get; set; } = 20;

    /// <summary>
    /// Failed Hellos from one address before back-off starts. Device secrets are 256-bit random,
    /// so this is not about guessing: it bounds the CPU and log volume a script can cost.
    /// A client with a stale secret fails once per reconnect, far below this.
    /// </summary>
    public int FailedHellosPerAddress { get; set; } = 20;

    /// <summary>Failed Hellos for one account (any address) before back-off starts for that account.</summary>
    public int FailedHellosPerAccount { get; set; } = 20;

    /// <summary>First back-off after the free failures, in seconds; it doubles with each further failure.</summary>
    public int HelloBackoffInitialSeconds { get; set; } = 1;

    /// <summary>Longest back-off for an address, in seconds: a scripted attacker waits 5 minutes per try.</summary>
    public int HelloBackoffMaxSecondsPerAddress { get; set; } = 300;

    /// <summary>
    /// Longest back-off for an account, in seconds: kept short because anyone can fail Hellos for
    /// someone else's account, and the owner's own devices must not be locked out for long.
    /// </summary>
    public int HelloBackoffMaxSecondsPerAccount { get; set; } = 30;

    /// <summary>Minutes without a failure after which an address's or account's failures are forgotten.</summary>
    public int FailedHelloWindowMinutes { get; set; } = 15;

    /// <summary>Seconds between the summary log lines of failed Hellos (one line per period with any, instead of one per attempt).</summary>
    public int FailedHelloLogIntervalSeconds { get; set; } = 60;

    /// <summary>
    /// Envelopes one device's durable queue may hold. A device offline for the whole envelope
    /// lifetime (30 days) of a busy user (500 messages a day) needs 15,000; beyond the cap a send
    /// to it is refused with RECIPIENT_QUEUE_FULL, so nobody can fill the disk through one device.
    /// </summary>
    public int MaxQueuedEnvelopesPerDevice { get; set; } = 20_000;

    /// <summary>Bytes one device's durable queue may hold: payloads are text and media pointers (64 KB at most), so 100 MB is months of heavy use.</summary>
    public long MaxQueuedBytesPerDevice { get; set; } = 100L * 1024 * 1024;

    /// <summary>Sustained messages per second from one account (all its devices): far above a person, far below a flood of the server.</summary>
    public double MessagesPerSecondPerSender { get; set; } = 50;

    /// <summary>Messages one account may send at once above its sustained rate: an outbox flushed after a long time offline.</summary>
    public int MessageBurstPerSender { get; set; } = 2000;

    /// <summary>Sustained messages per second from one account to one recipient: a fast typist sends 1-2; this stops flooding one person.</summary>
    public double MessagesPerSecondPerRecipient { get; set; } = 20;

    /// <summary>Messages to one recipient at once above the sustained rate (an outbox flush).</summary>
    public int MessageBurstPerRecipient { get; set; } = 1000;

    /// <summary>
    /// First messages per hour to users the account has never written to. People start a few new
    /// chats a day; spam scripts start thousands. Beyond it a send to a new user is refused with
    /// RATE_LIMITED; existing conversations are unaffected.
    /// </summary>
    public double NewContactsPerHour { get; set; } = 30;

    /// <summary>New contacts at once above the hourly rate: messaging everyone in a new group.</summary>
    public int NewContactBurst { get; set; } = 50;

    /// <summary>
    /// Members of one group. 1024, as WhatsApp allows: a group send is one body plus one queue row
    /// per member device, so the store cost per message and the STALE_DEVICES answer (about 20
    /// bytes per member) stay small, and a sender-key rotation after a removal costs the sender at
    /// most 1023 one-to-one distribution messages.
    /// </summary>
    public int MaxGroupMembers { get; set; } = 1024;

    /// <summary>
    /// Join requests waiting for an admin in one group (made by a link that needs approval). 256:
    /// more than admins can sensibly go through, and it bounds what a link posted in public can make
    /// the server keep, and the size of the list in an admin's GroupState (about 20 bytes a name).
    /// A request beyond it gets TOO_LARGE until admins answer some.
    /// </summary>
    public int MaxJoinRequestsPerGroup { get; set; } = 256;

    /// <summary>
    /// Typing updates per second one account sends into one group (all its devices together). A
    /// client says it types at most every few seconds (and when it stops); one update reaches
    /// every online device of up to 1023 members, so a flood would otherwise be multiplied by
    /// thousands. Past it updates are dropped (answered Ok: typing is best effort).
    /// </summary>
    public double GroupTypingPerSecond { get; set; } = 1;

    /// <summary>Typing updates into one group at once above the sustained rate: the starts and stops of someone editing a message.</summary>
    public int GroupTypingBurst { get; set; } = 10;

    /// <summary>
    /// Prekey uploads per hour by one device. A device uploads at registration, when told its keys
    /// run low and to rotate its signed prekey weekly: a few a day. Checking an upload verifies up
    /// to 202 signatures (about 30 ms of CPU), so without a rate a client could take the server's
    /// cores with uploads (each refused at the last key would cost the same). Beyond it RATE_LIMITED.
    /// </summary>
    public double PreKeyUploadsPerDevicePerHour { get; set; } = 60;

    /// <summary>Prekey uploads of one device at once above the hourly rate: a refill and a rotation after a long time offline, and retries.</summary>
    public int PreKeyUploadBurst { get; set; } = 10;

    /// <summary>
    /// Groups one account creates per hour. A group stays in memory and on disk while it has a
    /// member (its creator, or the users it added, after the creator left), and the message rate
    /// alone let one account create 2,000 at once and 50 a second; people create a few a month.
    /// Beyond it CreateGroup is RATE_LIMITED.
    /// </summary>
    public double GroupCreatesPerHourPerAccount { get; set; } = 20;

    /// <summary>Groups one account creates at once above the hourly rate: setting up a team's or a family's groups.</summary>
    public int GroupCreateBurst { get; set; } = 50;
}
