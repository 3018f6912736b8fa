using Parley.Client.Connection;
using Parley.Client.Receiving;
using Parley.Client.Sending;
using Parley.Client.Storage;

namespace Parley.Client;

/// <summary>
/// What tests reach inside a client: switches and faults they inject (no acks, a dropped link, a
/// damaged store, a forced resend) and counters they assert on. Internal, for the test projects
/// only (InternalsVisibleTo): none of it is part of the product API.
/// </summary>
internal sealed class ClientTestSurface(ParleyClient owner, ConnectionSupervisor connection, Outbox outbox, InboundProcessor inbound)
{
    /// <summary>When false, envelopes are stored but never acked (the server will redeliver them).</summary>
    public bool AcksEnabled
    {
        get => inbound.AcksEnabled;
        set => inbound.AcksEnabled = value;
    }

    /// <summary>How many delivered messages were already stored (redeliveries), acked and not raised again.</summary>
    public int DuplicateDeliveries => inbound.DuplicateDeliveries;

    /// <summary>How many times the server answered RATE_LIMITED and this client waited.</summary>
    public int RateLimitedCount => connection.RateLimitedCount;

    /// <summary>Key uploads this client has made since it was opened (registration upload included).</summary>
    public int PreKeyUploads => owner.PreKeyUploads;

    /// <summary>Uploads that refilled one-time EC prekeys after the server reported them low.</summary>
    public int EcPreKeyRefills => owner.EcPreKeyRefills;

    /// <summary>The local store (tests read key and session rows through it).</summary>
    public IClientStore Store => owner.Store;

    /// <summary>The session version with one device of a user (3 = X3DH, 4 = PQXDH), or null without a session.</summary>
    public uint? SessionVersionWith(string user, uint device) => owner.SessionVersionWith(user, device);

    /// <summary>Drops the live connection without a close handshake, as a network failure would.</summary>
    public void DropConnection() => connection.Drop();

    /// <summary>Puts an already-SENT message back in the outbox and waits until it is SENT again (the server must dedup it).</summary>
    public Task ResendAsync(string messageId, CancellationToken cancellationToken) => outbox.ResendAsync(messageId, cancellationToken);

    /// <summary>Deletes every session record (as a restored device would have none).</summary>
    public int DeleteAllSessionRecords() => SqliteStore.DeleteAllSessionRecords();

    /// <summary>Overwrites every session record with bytes that do not parse (a damaged store).</summary>
    public int DamageAllSessionRecords() => SqliteStore.DamageAllSessionRecords();

    /// <summary>Forgets every sender key this device holds, so group messages fail to decrypt (self-healing).</summary>
    public int DeleteAllSenderKeys() => SqliteStore.DeleteAllSenderKeys();

    /// <summary>Queues any serialized Content to <paramref name="peer"/> as an ordinary send: what a modified client could send.</summary>
    public string QueueContent(string peer, byte[] content) => outbox.Add(peer, "(crafted)", content);

    /// <summary>Decrypts a group body as if it came from that member device: the text (for a file: its media id), or null when this device cannot read it.</summary>
    public string? TryReadGroupBody(string sender, uint device, byte[] body) => owner.TryReadGroupBody(sender, device, body);

    private IStoreFaults SqliteStore => owner.Store as IStoreFaults
        ?? throw new InvalidOperationException("Only the SQLite store can be damaged on purpose.");
}
