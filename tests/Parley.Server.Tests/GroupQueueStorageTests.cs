using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Configuration;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>A group message in the SQLite queue: one body, one queue row per device, the body kept until the last device acks.</summary>
public sealed class GroupQueueStorageTests : IDisposable
{
    private static readonly long[] Devices = [42, 43, 44];
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-group-store-test-").FullName;
    private readonly ParleyOptions _options = new();

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

    [Fact]
    public async Task A_fanout_stores_its_body_once_with_a_queue_row_per_device()
    {
        var database = new SqliteDatabase(_dir, _options.Storage);
        await using var store = OpenStore(database);
        var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8(new string('x', 1000)) };
        Assert.True(await store.AppendFanoutAsync(null, envelope, Devices));
        await Task.Yield(); // off the store's writer thread, which completes appends inline (disposing there would wait for itself)

        using var check = database.Open();
        Assert.Equal(1L, Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        Assert.Equal(3L, Scalar(check, "SELECT COUNT(*) FROM queue"));
        foreach (var device in Devices)
        {
            var queued = Assert.Single(store.ReadQueue(device, 0, 10));
            Assert.Equal(envelope.Seq, queued.Seq);
            Assert.Equal(envelope.Payload, queued.Payload);
            Assert.Equal(1, store.Usage(device).Envelopes);
        }
    }

    [Fact]
    public async Task A_shared_body_stays_until_the_last_device_acks_it_even_across_a_restart()
    {
        var time = new FakeTimeProvider();
        var database = new SqliteDatabase(_dir, _options.Storage);
        ulong seq;
        await using (var store = OpenStore(database, time))
        {
            var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("group") };
            Assert.True(await store.AppendFanoutAsync(null, envelope, Devices));
            seq = envelope.Seq;
            await Task.Yield();
            time.Advance(TimeSpan.FromSeconds(2));
            await store.AckAsync(Devices[0], [seq], []);
            time.Advance(TimeSpan.FromSeconds(2));
            await store.AckAsync(Devices[1], [seq], []);
            time.Advance(TimeSpan.FromSeconds(2));
            // A later commit deletes the bodies that are due: this one must not be among them.
            await store.AppendAsync(null, [new QueuedEnvelope(Devices[0], new Envelope { Kind = EnvelopeKind.Message })]);
            await Task.Yield(); // off the writer thread, as above
            using var check = database.Open();
            Assert.Equal(1L, Scalar(check, $"SELECT COUNT(*) FROM envelopes WHERE seq = {seq}"));
        }
        await using (var store = OpenStore(database, time))
        {
            Assert.Empty(store.ReadQueue(Devices[1], 0, 10));
            Assert.Equal(seq, Assert.Single(store.ReadQueue(Devices[2], 0, 10)).Seq);
            await store.AckAsync(Devices[2], [seq], []);
        }
        using (var check = database.Open())
        {
            Assert.Equal(0L, Scalar(check, $"SELECT COUNT(*) FROM envelopes WHERE seq = {seq}"));
        }
    }

    private SqliteMessageStore OpenStore(SqliteDatabase database, TimeProvider? time = null) =>
        new(database, new IgnoringSink(), _options, time ?? TimeProvider.System, NullLogger<SqliteMessageStore>.Instance);

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private sealed class IgnoringSink : IEnvelopeSink
    {
        public void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes)
        {
        }
    }
}
