using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>A group message in the SQLite queue: one body, one queue row per device, the body kept until the last device acks.</summary>
public sealed class GroupQueueStorageTests : IDisposable
{
    private static readonly long[] Devices = [42, 43, 44];
    private readonly QueueStoreFolder _folder = new("parley-group-store-test-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_fanout_stores_its_body_once_with_a_queue_row_per_device()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database);
        var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8(new string('x', 1000)) };
        Assert.True(await store.AppendFanoutAsync(null, envelope, Devices));
        await Task.Yield(); // off the store's writer thread, which completes appends inline (disposing there would wait for itself)

        using var check = database.Open();
        Assert.Equal(1L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        Assert.Equal(3L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM queue"));
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
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        ulong seq;
        await using (var store = _folder.OpenStore(database, time))
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
            Assert.Equal(1L, QueueStoreFolder.Scalar(check, $"SELECT COUNT(*) FROM envelopes WHERE seq = {seq}"));
        }
        await using (var store = _folder.OpenStore(database, time))
        {
            Assert.Empty(store.ReadQueue(Devices[1], 0, 10));
            Assert.Equal(seq, Assert.Single(store.ReadQueue(Devices[2], 0, 10)).Seq);
            await store.AckAsync(Devices[2], [seq], []);
        }
        using (var check = database.Open())
        {
            Assert.Equal(0L, QueueStoreFolder.Scalar(check, $"SELECT COUNT(*) FROM envelopes WHERE seq = {seq}"));
        }
    }
}
