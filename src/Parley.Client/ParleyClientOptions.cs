using Parley.Client.Encryption;

namespace Parley.Client;

/// <summary>Tunables of one <see cref="ParleyClient"/>; the defaults follow docs/protocol.md.</summary>
public sealed class ParleyClientOptions
{
    /// <summary>
    /// Null (the default): Signal-protocol end-to-end encryption (docs/protocol.md, "Payload encryption").
    /// A custom cipher replaces it for tests of the transport alone; <see cref="PlaintextPayloadCipher"/> gives no confidentiality.
    /// </summary>
    public IPayloadCipher? Cipher { get; set; }

    /// <summary>Clock for message timestamps and heartbeats.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Heartbeat period: the server closes a connection silent for 75 s, so 25 s leaves room for two lost pings.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// How long the ack of a DELIVERY or READ receipt may wait for company: a receipt's seq rides in
    /// the next Ack of a message, and goes alone only when none comes within this delay (or
    /// <see cref="HeldReceiptAcksMax"/> are held, or the connection closes cleanly). Each ack that
    /// rides along is an Ack frame the server does not handle (docs/performance.md,
    /// "Lazy receipt acks"). Holding costs little: a receipt is idempotent, and one whose ack is lost
    /// (a crash) only comes again on the next connection. 1 s lets most receipt acks of a device in
    /// a live exchange ride along (measured: 88% when each device sends and receives one message a
    /// second; shorter deadlines sent more alone, and their few runs were inconclusive), and it is far under the
    /// server's 75 s idle timeout. <see cref="TimeSpan.Zero"/> acks every receipt at once.
    /// </summary>
    public TimeSpan ReceiptAckDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Receipt acks held back (see <see cref="ReceiptAckDelay"/>) before they go without waiting.
    /// Held envelopes count against the server's 1,000 unacked envelopes per connection; 64 keeps
    /// them far from that window (so they never stall delivery) and still fits a burst of group
    /// receipts in one Ack.
    /// </summary>
    public int HeldReceiptAcksMax { get; set; } = 64;

    /// <summary>How long to wait for a Pong before the connection is taken as dead.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long to wait for the Welcome after Hello: the server itself allows 10 s for the Hello to arrive.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>First reconnect delay ceiling; doubles per failed attempt.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Largest reconnect delay ceiling: 30 s keeps a recovering server from being stampeded yet retries soon enough.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When another connection of this same device replaces ours (close 4001): null stops reconnecting
    /// (the default: two live instances of one device would keep evicting each other); a delay
    /// reconnects after it, for a long-running view that shares its profile with one-shot commands.
    /// </summary>
    public TimeSpan? ReplacedRetryDelay { get; set; }

    /// <summary>
    /// False (the default): credentials (the device password in Hello, a link request's Basic
    /// auth, the password a registration returns) are never sent over plain http:// or ws:// to a
    /// host other than this machine; such a call throws a <see cref="ParleyException"/> with API
    /// code <c>insecure_transport</c>. True allows it (the CLI's <c>--insecure</c>), e.g. on a trusted LAN.
    /// </summary>
    public bool AllowInsecureTransport { get; set; }

    /// <summary>
    /// How long a sent message can be resent when the device it went to asks (RETRY_REQUEST). A
    /// day covers a phone that was off overnight; a longer window only widens what a forged
    /// retry request could ask to re-encrypt (to the same device and identity key, never another).
    /// </summary>
    public TimeSpan ResendWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How far back the history sent to a newly linked device reaches (by the time each message was
    /// written): 30 days, as WhatsApp does, gives the recent conversations without moving years of
    /// text. <see cref="TimeSpan.Zero"/> sends no history. See docs/protocol.md, "History for a new device".
    /// </summary>
    public TimeSpan HistoryWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Receives the progress of a link's history: on the approving device while it uploads the
    /// bundle, on the new device while it downloads and stores it (at the link, and on a later
    /// connect that resumes what the link left). Called on the transfer's own thread, in order;
    /// null reports nothing.
    /// </summary>
    public IProgress<History.HistoryProgress>? HistoryProgress { get; set; }

    /// <summary>Client name sent in Hello (for server logs only).</summary>
    public string ClientName { get; set; } = "parley-dotnet/1";
}
