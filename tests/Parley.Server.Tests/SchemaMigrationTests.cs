using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Contacts;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// A server database made by the schema of commit 2edd3f0 (before the abuse limits: no queue.size,
/// no dedup.recipient, no contacts, privacy, push or media tables) opens with the current server,
/// which delivers what it held and goes on sending, delivering and acking.
/// </summary>
public sealed class SchemaMigrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-migration-test-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // The CREATE statements of 2edd3f0, as SqliteDatabase and SqliteDeviceKeyStore had them.
    private const string OldSchema = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, user TEXT NOT NULL UNIQUE, phone TEXT, created INTEGER NOT NULL, last_seen INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE devices (account INTEGER NOT NULL, device INTEGER NOT NULL, name TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
            created INTEGER NOT NULL, PRIMARY KEY (account, device)) WITHOUT ROWID;
        CREATE TABLE invites (hash BLOB PRIMARY KEY, created INTEGER NOT NULL, used INTEGER) WITHOUT ROWID;
        CREATE TABLE envelopes (seq INTEGER PRIMARY KEY, device INTEGER NOT NULL, expires INTEGER NOT NULL, body BLOB NOT NULL);
        CREATE TABLE queue (device INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (device, seq)) WITHOUT ROWID;
        CREATE TABLE dedup (message_id BLOB NOT NULL, sender INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (message_id, sender)) WITHOUT ROWID;
        CREATE TABLE device_keys (device INTEGER PRIMARY KEY, identity BLOB NOT NULL, registration_id INTEGER NOT NULL,
            signed_id INTEGER, signed_key BLOB, signed_sig BLOB, signed_at INTEGER, kyber_id INTEGER, kyber_key BLOB, kyber_sig BLOB, kyber_at INTEGER);
        CREATE TABLE prekeys (device INTEGER NOT NULL, kind INTEGER NOT NULL, id INTEGER NOT NULL, key BLOB NOT NULL, sig BLOB NOT NULL,
            PRIMARY KEY (device, kind, id)) WITHOUT ROWID;
        """;

    [Fact]
    public async Task A_database_of_the_old_schema_delivers_its_queue_and_then_sends_delivers_and_acks()
    {
        var oldId = MessageId.New();
        using (var old = new SqliteConnection($"Data Source={Path.Combine(_dir, "parley.db")};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = OldSchema;
            command.ExecuteNonQuery();
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            AddAccount(old, 1, "alice", now);
            AddAccount(old, 2, "bob", now);
            // One message alice sent bob under the old server, still queued for bob's device; its
            // dedup row is keyed by the sender's device key, as the old server wrote it.
            var envelope = new Envelope
            {
                Seq = 1, Kind = EnvelopeKind.Message, MessageId = ByteString.CopyFrom(oldId), Sender = "alice", SenderDevice = 1,
                Conversation = "alice", SentAt = now, ServerTime = now, Payload = ByteString.CopyFromUtf8("from before"),
            };
            Run(old, "INSERT INTO envelopes(seq, device, expires, body) VALUES (1, $d, $e, $b); INSERT INTO queue(device, seq) VALUES ($d, 1);" +
                "INSERT INTO dedup(message_id, sender, at) VALUES ($m, $s, $e);",
                ("$d", new DeviceAddress(2, 1).Key), ("$s", new DeviceAddress(1, 1).Key), ("$e", now + 86_400_000), ("$b", envelope.ToByteArray()), ("$m", oldId));
        }
        SqliteConnection.ClearAllPools();

        await using var fx = await ServerFixture.StartAsync(dataDir: _dir);
        await using var a = await RawClient.ConnectAsync(fx.Server, Credentials("alice"));
        var sent = await a.RequestAsync(Wire.Send("bob", text: "after"));
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, sent.BodyCase);
        // The old message id is still remembered: a resend of it is not queued twice.
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await a.RequestAsync(Wire.Send("bob", messageId: oldId, text: "from before"))).BodyCase);

        await using (var b = await RawClient.ConnectAsync(fx.Server, Credentials("bob")))
        {
            var first = (await b.ReceiveEnvelopeAsync()).Envelope;
            var second = (await b.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal(("from before", "after"), (first.Payload.ToStringUtf8(), second.Payload.ToStringUtf8()));
            Assert.True(second.Seq > first.Seq);
            await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty);
            Assert.Equal(2u, (await b.RequestAsync(Wire.Ack(first.Seq, second.Seq))).AckResult.Acked);
        }
        // Alice hears of the delivery of both (a receipt each), and bob's queue is empty on return.
        var receipts = new HashSet<ByteString>();
        while (receipts.Count < 2)
        {
            var e = (await a.ReceiveEnvelopeAsync()).Envelope;
            Assert.Equal(EnvelopeKind.DeliveryReceipt, e.Kind);
            receipts.UnionWith(e.ReceiptIds);
        }
        Assert.Contains(ByteString.CopyFrom(oldId), receipts);
        await using var again = await RawClient.ConnectAsync(fx.Server, Credentials("bob"));
        var next = await again.ReceiveAsync(f => f.BodyCase is ServerFrame.BodyOneofCase.QueueEmpty or ServerFrame.BodyOneofCase.Envelope);
        Assert.Equal(ServerFrame.BodyOneofCase.QueueEmpty, next.BodyCase);
    }

    [Fact]
    public void Contact_edges_of_the_keyed_contacts_table_are_kept_when_it_becomes_append_only()
    {
        using (var old = new SqliteConnection($"Data Source={Path.Combine(_dir, "parley.db")};Pooling=False"))
        {
            old.Open();
            // The contacts table and index of ab07452 (one row per edge, keyed, indexed by recipient).
            Run(old, "PRAGMA journal_mode=WAL;" +
                "CREATE TABLE contacts (sender INTEGER NOT NULL, recipient INTEGER NOT NULL, PRIMARY KEY (sender, recipient)) WITHOUT ROWID;" +
                "CREATE INDEX contacts_by_recipient ON contacts(recipient, sender);" +
                "INSERT INTO contacts(sender, recipient) VALUES (1, 2), (2, 1), (3, 1);");
        }
        SqliteConnection.ClearAllPools();

        var database = new SqliteDatabase(_dir, new StorageOptions());
        var edges = new SqliteContactStore(database).LoadEdges().Order().ToList();
        Assert.Equal([(1L, 2L), (2L, 1L), (3L, 1L)], edges);
        var book = new ContactBook(new SqliteContactStore(database));
        Assert.True(book.HasWritten(3, 1));
        Assert.False(book.HasWritten(1, 3));
        Assert.False(book.RecordWrite(1, 2)); // already an edge: nothing more to store
        using var connection = database.Open();
        Assert.Equal(0, QueueStoreFolder.Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE name IN ('contacts', 'contacts_by_recipient')"));
    }

    private static DeviceCredentials Credentials(string user) => new(user, 1, user + "-password");

    private static void AddAccount(SqliteConnection db, long id, string user, long now)
    {
        var salt = DeviceSecret.NewSalt();
        Run(db, "INSERT INTO accounts(id, user, created) VALUES ($i, $u, $n); INSERT INTO devices(account, device, name, salt, hash, created) VALUES ($i, 1, 'phone', $s, $h, $n);",
            ("$i", id), ("$u", user), ("$n", now), ("$s", salt), ("$h", DeviceSecret.Hash(salt, user + "-password")));
    }

    private static void Run(SqliteConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        command.ExecuteNonQuery();
    }
}
