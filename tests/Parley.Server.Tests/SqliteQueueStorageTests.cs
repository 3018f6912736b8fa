using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>The SQLite queue's layout: queue rows apart from bodies, bodies deleted after the ack, the old layout migrated.</summary>
public sealed class SqliteQueueStorageTests : IDisposable
{
    private const long Device = 42;
    private readonly QueueStoreFolder _folder = new("parley-store-test-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_database_from_before_the_queue_table_keeps_its_undelivered_envelopes_in_order()
    {
        var path = Path.Combine(_folder.Path, "parley.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE envelopes (seq INTEGER PRIMARY KEY, device INTEGER NOT NULL, expires INTEGER NOT NULL, body BLOB NOT NULL);
                CREATE INDEX envelopes_by_device ON envelopes(device, seq);
                """;
            command.ExecuteNonQuery();
            for (ulong seq = 1; seq <= 3; seq++)
            {
                using var insert = old.CreateCommand();
                insert.CommandText = "INSERT INTO envelopes(seq, device, expires, body) VALUES ($s, $d, $e, $b)";
                insert.Parameters.AddWithValue("$s", (long)seq);
                insert.Parameters.AddWithValue("$d", seq == 2 ? Device + 1 : Device);
                insert.Parameters.AddWithValue("$e", long.MaxValue);
                insert.Parameters.AddWithValue("$b", new Envelope { Seq = seq, Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8($"m{seq}") }.ToByteArray());
                insert.ExecuteNonQuery();
            }
        }

        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using (var store = _folder.OpenStore(database))
        {
            var queued = store.ReadQueue(Device, 0, 10);
            Assert.Equal(new ulong[] { 1, 3 }, queued.Select(e => e.Seq));
            Assert.Equal("m3", queued[1].Payload.ToStringUtf8());

            await store.AckAsync(Device, [1], []);
            Assert.Equal(new ulong[] { 3 }, store.ReadQueue(Device, 0, 10).Select(e => e.Seq));
        }
        using var check = database.Open();
        Assert.Equal(0L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'envelopes_by_device'"));
    }

    [Fact]
    public async Task An_acked_body_is_gone_from_the_file_once_the_store_stops_and_other_devices_acks_delete_nothing()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using (var store = _folder.OpenStore(database))
        {
            var mine = new QueuedEnvelope(Device, new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("a") });
            var kept = new QueuedEnvelope(Device, new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("b") });
            Assert.True(await store.AppendAsync(null, [mine, kept]));

            // Another device acking these seqs must not delete them.
            await store.AckAsync(Device + 1, [mine.Envelope.Seq, kept.Envelope.Seq], []);
            Assert.Equal(2, store.ReadQueue(Device, 0, 10).Count);

            await store.AckAsync(Device, [mine.Envelope.Seq], []);
            Assert.Equal(new[] { kept.Envelope.Seq }, store.ReadQueue(Device, 0, 10).Select(e => e.Seq));
        }
        using var check = database.Open();
        Assert.Equal(1L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        Assert.Equal(1L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM queue"));
    }

    [Fact]
    public async Task A_body_acked_in_the_commit_that_deletes_older_acked_bodies_is_deleted_too()
    {
        var time = new FakeTimeProvider();
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using (var store = _folder.OpenStore(database, time))
        {
            var first = new QueuedEnvelope(Device, new Envelope { Kind = EnvelopeKind.Message });
            var second = new QueuedEnvelope(Device, new Envelope { Kind = EnvelopeKind.Message });
            Assert.True(await store.AppendAsync(null, [first, second]));
            time.Advance(TimeSpan.FromSeconds(2));
            await store.AckAsync(Device, [first.Envelope.Seq], []);
            // The next commit deletes the first body (acked, and old enough) and acks the second,
            // which is just as old: it must stay on the list of bodies to delete.
            time.Advance(TimeSpan.FromSeconds(2));
            await store.AckAsync(Device, [second.Envelope.Seq], []);
        }
        using var check = database.Open();
        Assert.Equal(0L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
    }

    [Fact]
    public async Task Bodies_left_without_a_queue_entry_are_deleted_when_the_store_opens()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        using (var connection = database.Open())
        {
            // What a crash between an ack's commit and the later body delete leaves behind.
            SqliteDatabase.Execute(connection, "INSERT INTO envelopes(seq, device, expires, body) VALUES (7, 42, 0, x'00')");
        }
        await using (_folder.OpenStore(database))
        {
            using var check = database.Open();
            Assert.Equal(0L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        }
    }
}
