using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// A group message in the SQLite queue: one body with its recipient set and no row per device, what
/// each device owes kept in memory and its acks persisted lazily as a mark, the body kept until the
/// last device acks.
/// </summary>
public sealed class GroupQueueStorageTests : IDisposable
{
    private static readonly long[] Devices = [42, 43, 44];
    private readonly QueueStoreFolder _folder = new("parley-group-store-test-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_fanout_stores_its_body_once_with_its_recipient_set_and_no_row_per_device()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database);
        var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8(new string('x', 1000)) };
        Assert.True(await store.AppendFanoutAsync(null, envelope, Devices));
        await Task.Yield(); // off the store's writer thread, which completes appends inline (disposing there would wait for itself)

        using var check = database.Open();
        Assert.Equal(1L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        Assert.Equal(0L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM queue"));
        // Three device keys a step apart: a byte each.
        Assert.Equal(3L, QueueStoreFolder.Scalar(check, "SELECT length(recipients) FROM envelopes"));
        foreach (var device in Devices)
        {
            var queued = Assert.Single(store.ReadQueue(device, 0, 10));
            Assert.Equal(envelope.Seq, queued.Seq);
            Assert.Equal(envelope.Payload, queued.Payload);
            Assert.Equal(1, store.Usage(device).Envelopes);
            Assert.Equal(envelope.CalculateSize(), store.Usage(device).Bytes);
        }
    }

    [Fact]
    public async Task A_1024_member_fanout_holds_its_body_and_about_three_bytes_per_recipient_device()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database);
        // Device 1 of 1,023 accounts with consecutive ids (account << 16 | device), as registration gives them.
        var devices = Enumerable.Range(1000, 1023).Select(account => ((long)account << 16) | 1).ToList();
        var envelope = new Envelope { Kind = EnvelopeKind.Message, Sender = "m0000", SenderDevice = 1, MessageId = ByteString.CopyFrom(new byte[16]), GroupId = ByteString.CopyFrom(new byte[16]), Payload = ByteString.CopyFrom(new byte[256]) };
        await store.AppendFanoutAsync(null, envelope, devices);
        await Task.Yield();

        using var check = database.Open();
        long body = QueueStoreFolder.Scalar(check, "SELECT length(body) FROM envelopes");
        long recipients = QueueStoreFolder.Scalar(check, "SELECT length(recipients) FROM envelopes");
        Assert.Equal(envelope.CalculateSize(), body);
        Assert.InRange(recipients, 1023 * 3, (1023 * 3) + 2);
        Assert.Equal(0L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM queue"));
        Assert.Equal(1023, devices.Count(d => store.ReadQueue(d, 0, 10).Count == 1));
    }

    [Fact]
    public async Task Coalesced_receipts_name_each_message_once_and_store_each_member_device_in_about_three_bytes()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        var accounts = new AccountDirectory(new SqliteAccountStore(database, TimeProvider.System), TimeProvider.System);
        accounts.Create("alice", null, "phone");
        var members = Enumerable.Range(0, 13).Select(i => accounts.Create($"m{i:D3}", null, "phone")!).ToList();
        var alice = new DeviceAddress(accounts.Find("alice")!.Id, 1).Key;
        var group = ByteString.CopyFrom(new byte[16]);
        ByteString first = ByteString.CopyFrom(Enumerable.Repeat((byte)1, 16).ToArray()), second = ByteString.CopyFrom(Enumerable.Repeat((byte)2, 16).ToArray());
        await using var store = _folder.OpenStore(database, accounts: accounts);

        // Ten members read the first message and three the second, in one commit.
        var receipts = members.Select((m, i) => new QueuedEnvelope(alice, new Envelope
        {
            Kind = EnvelopeKind.ReadReceipt, Sender = m.User, SenderDevice = m.DeviceId, Conversation = m.User, GroupId = group, ReceiptIds = { i < 10 ? first : second },
        })).ToList();
        await store.AppendGroupReceiptsAsync(receipts);
        await Task.Yield();

        var queued = store.ReadQueue(alice, 0, 10);
        Assert.Equal(2, queued.Count);
        Assert.Equal([first], queued[0].ReceiptIds);
        Assert.Equal(members.Take(10).Select(m => m.User), queued[0].Receipts.Select(r => r.Reader));
        Assert.Equal([second], queued[1].ReceiptIds);
        Assert.Equal(members.Skip(10).Select(m => m.User), queued[1].Receipts.Select(r => r.Reader));
        Assert.All(queued.SelectMany(e => e.Receipts), r => Assert.Equal(1u, r.ReaderDevice));
        Assert.All(queued.SelectMany(e => e.Receipts), r => Assert.Empty(r.MessageIds));

        // Stored without the entries: the members are their device keys, 3 bytes each (consecutive accounts).
        using var check = database.Open();
        Assert.Equal(10L * 3, QueueStoreFolder.Scalar(check, $"SELECT length(recipients) FROM envelopes WHERE seq = {queued[0].Seq}"));
        Assert.Equal(3L * 3, QueueStoreFolder.Scalar(check, $"SELECT length(recipients) FROM envelopes WHERE seq = {queued[1].Seq}"));
        Assert.True(QueueStoreFolder.Scalar(check, $"SELECT length(body) FROM envelopes WHERE seq = {queued[0].Seq}") < 64);
    }

    [Fact]
    public async Task A_devices_queue_merges_its_own_envelopes_and_the_fanouts_it_owes_in_seq_order_and_pages()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database);
        var appended = new List<ulong>();
        for (int i = 0; i < 6; i++)
        {
            var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8($"m{i}") };
            if (i % 2 == 0)
            {
                await store.AppendFanoutAsync(null, envelope, Devices);
            }
            else
            {
                await store.AppendAsync(null, [new QueuedEnvelope(Devices[0], envelope)]);
            }
            appended.Add(envelope.Seq);
        }
        await Task.Yield();

        Assert.Equal(appended, store.ReadQueue(Devices[0], 0, 10).Select(e => e.Seq));
        Assert.Equal(["m0", "m1", "m2", "m3", "m4", "m5"], store.ReadQueue(Devices[0], 0, 10).Select(e => e.Payload.ToStringUtf8()));
        Assert.Equal(appended.Take(4), store.ReadQueue(Devices[0], 0, 4).Select(e => e.Seq));
        Assert.Equal(appended.Skip(4), store.ReadQueue(Devices[0], appended[3], 4).Select(e => e.Seq));
        Assert.Equal(["m0", "m2", "m4"], store.ReadQueue(Devices[1], 0, 10).Select(e => e.Payload.ToStringUtf8()));
        Assert.Equal(6, store.Usage(Devices[0]).Envelopes);
        Assert.Equal(3, store.Usage(Devices[1]).Envelopes);

        await store.AckAsync(Devices[0], [appended[0], appended[1], appended[4]], []);
        await Task.Yield();
        Assert.Equal(["m2", "m3", "m5"], store.ReadQueue(Devices[0], 0, 10).Select(e => e.Payload.ToStringUtf8()));
        Assert.Equal(3, store.Usage(Devices[0]).Envelopes);
        Assert.Equal(3, store.Usage(Devices[1]).Envelopes);
    }

    [Fact]
    public async Task A_restart_rebuilds_what_each_device_owes_from_the_acks_persisted_at_the_clean_stop()
    {
        var time = new FakeTimeProvider(); // never advanced: no flush before the stop
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        var seqs = new List<ulong>();
        await using (var store = _folder.OpenStore(database, time))
        {
            for (int i = 0; i < 3; i++)
            {
                var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8($"g{i}") };
                await store.AppendFanoutAsync(null, envelope, Devices);
                seqs.Add(envelope.Seq);
            }
            await store.AckAsync(Devices[0], seqs, []);
            await store.AckAsync(Devices[1], [seqs[0], seqs[2]], []); // out of order: the mark stops below the gap
            await Task.Yield();
        }
        await using (var store = _folder.OpenStore(database, time))
        {
            Assert.Empty(store.ReadQueue(Devices[0], 0, 10));
            Assert.Equal(0, store.Usage(Devices[0]).Envelopes);
            // The mark cannot say seqs[2] was acked past the gap: it comes again (the client drops it by id).
            Assert.Equal(seqs.Skip(1), store.ReadQueue(Devices[1], 0, 10).Select(e => e.Seq));
            Assert.Equal(seqs, store.ReadQueue(Devices[2], 0, 10).Select(e => e.Seq));
            Assert.Equal(3, store.Usage(Devices[2]).Envelopes);
        }
    }

    [Fact]
    public async Task Acks_not_yet_persisted_when_the_server_dies_are_delivered_again_and_those_persisted_are_not()
    {
        _folder.Options.Storage.FanoutAckFlushMs = 1000;
        var time = new FakeTimeProvider();
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        var crashed = Path.Combine(_folder.Path, "crashed");
        ulong first, second;
        await using (var store = _folder.OpenStore(database, time))
        {
            var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("one") };
            await store.AppendFanoutAsync(null, envelope, Devices);
            first = envelope.Seq;
            await store.AckAsync(Devices[0], [first], []);
            time.Advance(TimeSpan.FromSeconds(2));
            // The next commit persists the mark of the first ack (due by now).
            envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("two") };
            await store.AppendFanoutAsync(null, envelope, Devices);
            second = envelope.Seq;
            await store.AckAsync(Devices[0], [second], []); // within the interval: in memory only
            await Task.Yield();
            // What a SIGKILL now would leave: the committed database, as the files hold it.
            Directory.CreateDirectory(crashed);
            foreach (var file in Directory.GetFiles(_folder.Path, "parley.db*"))
            {
                File.Copy(file, Path.Combine(crashed, Path.GetFileName(file)));
            }
        }
        var reopened = new SqliteDatabase(crashed, _folder.Options.Storage);
        await using (var store = _folder.OpenStore(reopened, time))
        {
            Assert.Equal([second], store.ReadQueue(Devices[0], 0, 10).Select(e => e.Seq));
            Assert.Equal([first, second], store.ReadQueue(Devices[1], 0, 10).Select(e => e.Seq));
        }
    }

    [Fact]
    public async Task Delivery_receipts_of_fanout_acks_wait_in_memory_and_go_coalesced_in_one_envelope_per_message()
    {
        var (time, database, accounts, _, alice, members, keys, group) = ReceiptScene();
        var id = ByteString.CopyFrom(Enumerable.Repeat((byte)7, 16).ToArray());
        await using var store = _folder.OpenStore(database, time, accounts);
        var message = new Envelope { Kind = EnvelopeKind.Message, Sender = "alice", SenderDevice = 1, MessageId = id, GroupId = group, Payload = ByteString.CopyFromUtf8("hi") };
        await store.AppendFanoutAsync(null, message, keys);

        for (int i = 0; i < members.Count; i++)
        {
            var receipt = new Envelope { Kind = EnvelopeKind.DeliveryReceipt, Sender = members[i].User, SenderDevice = 1, Conversation = members[i].User, GroupId = group, ReceiptIds = { id } };
            await store.AckAsync(keys[i], [message.Seq], [new QueuedEnvelope(alice, receipt)]);
        }
        await Task.Yield();
        // The acks are in memory only, and so are their receipts: nothing queued for alice yet.
        Assert.Empty(store.ReadQueue(alice, 0, 10));

        time.Advance(TimeSpan.FromSeconds(2));
        // The writer wakes on its own (acked bodies, marks and receipts wait) and writes them.
        await Wait.UntilAsync(() => store.ReadQueue(alice, 0, 10).Count > 0);
        var queued = Assert.Single(store.ReadQueue(alice, 0, 10));
        Assert.Equal(EnvelopeKind.DeliveryReceipt, queued.Kind);
        Assert.Equal([id], queued.ReceiptIds);
        Assert.Equal(members.Select(m => m.User), queued.Receipts.Select(r => r.Reader).Order());
        using var check = database.Open();
        Assert.Equal(3L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM fanout_marks"));
    }

    [Fact]
    public async Task Group_deliveries_acked_as_values_wait_in_memory_and_go_out_as_one_envelope_per_message_and_a_lone_one_plain()
    {
        var (time, database, accounts, sender, alice, members, keys, group) = ReceiptScene();
        ByteString first = ByteString.CopyFrom(Enumerable.Repeat((byte)1, 16).ToArray()), second = ByteString.CopyFrom(Enumerable.Repeat((byte)2, 16).ToArray());
        await using var store = _folder.OpenStore(database, time, accounts);
        var messages = new[] { first, second }.Select(id => new Envelope { Kind = EnvelopeKind.Message, Sender = "alice", SenderDevice = 1, MessageId = id, GroupId = group, Payload = ByteString.CopyFromUtf8("hi") }).ToList();
        foreach (var message in messages)
        {
            await store.AppendFanoutAsync(null, message, keys);
        }
        GroupDelivery Delivery(int member, ByteString id) => new(group, id, members[member].User, accounts.Find(members[member].User)!.Id, members[member].DeviceId, sender.Id, sender.Devices);

        // Member 0 acks both in one frame, members 1 and 2 only the first, one seq each.
        await store.AckGroupDeliveriesAsync(keys[0], [messages[0].Seq, messages[1].Seq], [], [Delivery(0, first), Delivery(0, second)]);
        await store.AckGroupDeliveryAsync(keys[1], messages[0].Seq, Delivery(1, first));
        await store.AckGroupDeliveryAsync(keys[2], messages[0].Seq, Delivery(2, first));
        await Task.Yield();
        Assert.Empty(store.ReadQueue(alice, 0, 10));
        Assert.Empty(store.ReadQueue(keys[0], 0, 10));
        Assert.Equal([messages[1].Seq], store.ReadQueue(keys[1], 0, 10).Select(e => e.Seq));

        time.Advance(TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(() => store.ReadQueue(alice, 0, 10).Count > 0);
        var queued = store.ReadQueue(alice, 0, 10);
        Assert.Equal(2, queued.Count);
        // The first message: named once, an entry per member device.
        Assert.Equal(EnvelopeKind.DeliveryReceipt, queued[0].Kind);
        Assert.Equal([first], queued[0].ReceiptIds);
        Assert.Equal(group, queued[0].GroupId);
        Assert.Equal(members.Select(m => m.User), queued[0].Receipts.Select(r => r.Reader).Order());
        Assert.Empty(queued[0].Sender);
        // The second, acked by one member only: a plain receipt from that member.
        Assert.Equal(EnvelopeKind.DeliveryReceipt, queued[1].Kind);
        Assert.Equal([second], queued[1].ReceiptIds);
        Assert.Empty(queued[1].Receipts);
        Assert.Equal(members[0].User, queued[1].Sender);
        Assert.Equal(members[0].User, queued[1].Conversation);
        Assert.Equal(group, queued[1].GroupId);
        // The coalesced one is stored compactly, its member devices by key (named again above).
        using var check = database.Open();
        Assert.Equal(3L * 3, QueueStoreFolder.Scalar(check, $"SELECT length(recipients) FROM envelopes WHERE seq = {queued[0].Seq}"));
    }

    [Fact]
    public async Task A_devices_quota_counts_the_fanouts_it_owes_until_it_acks_them()
    {
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database);
        var seqs = new List<ulong>();
        long bytes = 0;
        for (int i = 0; i < 5; i++)
        {
            var envelope = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8(new string('q', 100 * (i + 1))) };
            await store.AppendFanoutAsync(null, envelope, [Devices[0]]);
            seqs.Add(envelope.Seq);
            bytes += envelope.CalculateSize();
        }
        await store.AppendAsync(null, [new QueuedEnvelope(Devices[0], new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("own") })]);
        await Task.Yield();
        var usage = store.Usage(Devices[0]);
        Assert.Equal(6, usage.Envelopes);
        Assert.True(usage.Bytes > bytes);
        await store.AckAsync(Devices[0], seqs.Take(3).ToList(), []);
        await Task.Yield();
        Assert.Equal(3, store.Usage(Devices[0]).Envelopes);
    }

    [Fact]
    public async Task An_expired_fanout_is_gone_for_every_device_and_stays_gone_after_a_restart()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        ulong kept;
        await using (var store = _folder.OpenStore(database, time))
        {
            await store.AppendFanoutAsync(null, new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("old") }, Devices);
            await store.AckAsync(Devices[0], [store.ReadQueue(Devices[0], 0, 1)[0].Seq], []);
            time.Advance(TimeSpan.FromDays(_folder.Options.Limits.EnvelopeTtlDays) + TimeSpan.FromHours(1));
            var fresh = new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8("new") };
            await store.AppendFanoutAsync(null, fresh, Devices);
            kept = fresh.Seq;
            await Task.Yield();
            // Two devices still owed the old one: two deliveries expire.
            Assert.Equal(2, await store.DeleteExpiredAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), 0));
            foreach (var device in Devices)
            {
                Assert.Equal([kept], store.ReadQueue(device, 0, 10).Select(e => e.Seq));
                Assert.Equal(1, store.Usage(device).Envelopes);
            }
            using var check = database.Open();
            Assert.Equal(1L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
        }
        await using (var store = _folder.OpenStore(database, time))
        {
            foreach (var device in Devices)
            {
                Assert.Equal([kept], store.ReadQueue(device, 0, 10).Select(e => e.Seq));
            }
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

    /// <summary>
    /// The group receipt tests' scene: sender "alice" (device 1, key <c>Alice</c>) and three members
    /// with their device keys, marks flushed after 1 s and receipts after 250 ms of fake time.
    /// </summary>
    private (FakeTimeProvider Time, SqliteDatabase Database, AccountDirectory Accounts, Account Sender, long Alice, List<DeviceCredentials> Members, List<long> Keys, ByteString Group) ReceiptScene()
    {
        _folder.Options.Storage.FanoutAckFlushMs = 1000;
        _folder.Options.Storage.GroupReceiptFlushMs = 250;
        var time = new FakeTimeProvider();
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        var accounts = new AccountDirectory(new SqliteAccountStore(database, time), time);
        accounts.Create("alice", null, "phone");
        var sender = accounts.Find("alice")!;
        var members = Enumerable.Range(0, 3).Select(i => accounts.Create($"m{i:D3}", null, "phone")!).ToList();
        var keys = members.Select(m => new DeviceAddress(accounts.Find(m.User)!.Id, m.DeviceId).Key).ToList();
        return (time, database, accounts, sender, new DeviceAddress(sender.Id, 1).Key, members, keys, ByteString.CopyFrom(new byte[16]));
    }
}
