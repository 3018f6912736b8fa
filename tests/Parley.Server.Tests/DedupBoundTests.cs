using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// The dedup table is bounded per sending device: it keeps each device's latest
/// DedupPerDevice ids (plus the trim's slack, an eighth of the table), so its latest sends are
/// still recognised as resends and still answer the READ check, whatever the traffic, and the
/// bound holds across a restart. Rows younger than a minute are never trimmed (the store's clock
/// is moved past that before each trim).
/// </summary>
public sealed class DedupBoundTests : IDisposable
{
    private const int Bound = 8;
    // A trim starts once the rows over the bound are an eighth of the table: with 3 quiet rows
    // and the chatty device's 8 + 1, one row over is below that and stays.
    private const int BoundWithSlack = Bound + 1;
    private const long Alice = 1, Bob = 2;
    private static readonly long Chatty = new DeviceAddress(Alice, 1).Key, Quiet = new DeviceAddress(Bob, 1).Key;
    private readonly QueueStoreFolder _folder = new("parley-dedup-test-");
    private readonly FakeTimeProvider _idClock = new(DateTimeOffset.UtcNow);
    private readonly FakeTimeProvider _storeClock = new(DateTimeOffset.UtcNow);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_device_keeps_only_its_latest_ids_which_are_still_deduplicated_and_readable()
    {
        _folder.Options.Limits.DedupPerDevice = Bound;
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        var chatty = new List<byte[]>();
        await using (var store = _folder.OpenStore(database, _storeClock))
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.True(await SendAsync(store, Quiet, Alice, NewId()));
            }
            for (int i = 0; i < 40; i++)
            {
                chatty.Add(NewId());
                Assert.True(await SendAsync(store, Chatty, Bob, chatty[^1]));
            }
            await SendAfterAMinuteAsync(store, chatty);
            await Wait.UntilAsync(() => RowsOf(database, Chatty) <= BoundWithSlack);
            Assert.Equal(3, RowsOf(database, Quiet));

            // Every id still remembered is a duplicate when resent, and a READ may name it.
            foreach (var id in chatty.TakeLast(Bound))
            {
                Assert.False(await SendAsync(store, Chatty, Bob, id));
            }
            Assert.Single(store.SentTo(Alice, Bob, [ByteString.CopyFrom(chatty[^1]), ByteString.CopyFrom(chatty[0])]));
            Assert.InRange(RowsOf(database, Chatty), Bound, BoundWithSlack);
            await Task.Yield(); // off the store's writer thread, which completes appends inline (disposing there would wait for itself)
        }

        // After a restart the counts come from the table: the bound still holds.
        await using (var store = _folder.OpenStore(database, _storeClock))
        {
            for (int i = 0; i < 20; i++)
            {
                chatty.Add(NewId());
                Assert.True(await SendAsync(store, Chatty, Bob, chatty[^1]));
            }
            await SendAfterAMinuteAsync(store, chatty);
            await Wait.UntilAsync(() => RowsOf(database, Chatty) <= BoundWithSlack);
            Assert.False(await SendAsync(store, Chatty, Bob, chatty[^1]));
            Assert.Equal(3, RowsOf(database, Quiet));
            await Task.Yield(); // as above
        }
    }

    /// <summary>Moves the store's clock past the youngest trimmable age and sends once more: the commit starts the trim.</summary>
    private async Task SendAfterAMinuteAsync(SqliteMessageStore store, List<byte[]> chatty)
    {
        _storeClock.Advance(TimeSpan.FromMinutes(2));
        chatty.Add(NewId());
        Assert.True(await SendAsync(store, Chatty, Bob, chatty[^1]));
    }

    private byte[] NewId()
    {
        _idClock.Advance(TimeSpan.FromMilliseconds(1)); // UUIDv7: ids in send order
        return MessageId.New(_idClock);
    }

    private static Task<bool> SendAsync(SqliteMessageStore store, long senderDevice, long recipient, byte[] id) =>
        store.AppendAsync(new DedupKey(senderDevice, id, recipient), [new QueuedEnvelope(new DeviceAddress(recipient, 1).Key,
            new Envelope { Kind = EnvelopeKind.Message, MessageId = ByteString.CopyFrom(id), Payload = ByteString.CopyFromUtf8("m") })]);

    private static long RowsOf(SqliteDatabase database, long senderDevice)
    {
        using var connection = database.Open();
        return QueueStoreFolder.Scalar(connection, $"SELECT COUNT(*) FROM dedup WHERE sender = {senderDevice}");
    }
}
