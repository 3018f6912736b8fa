using System.Text;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>What the server leaves on disk: private files, no deleted content, expiry by seq range.</summary>
public sealed class StorageHygieneTests : IDisposable
{
    private const long Device = 42;
    private readonly QueueStoreFolder _folder = new("parley-hygiene-test-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Data_folder_and_every_database_file_are_private_to_the_server_user_even_when_they_were_not()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var dataDir = Path.Combine(_folder.Path, "data");
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(dataDir, (UnixFileMode)0b111_101_101); // 0755, as older versions left it
        await using var fx = await ServerFixture.StartAsync(dataDir: dataDir);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await RawClient.RegisterAsync(fx.Server, "bob");
        await using (var a = await RawClient.ConnectAsync(fx.Server, alice))
        {
            await a.RequestAsync(Wire.Send("bob", text: "hello"));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
        var files = Directory.GetFiles(dataDir);
        Assert.Contains(Path.Combine(dataDir, "parley.db-wal"), files);
        Assert.Contains(Path.Combine(dataDir, "parley.db-shm"), files);
        foreach (var file in files)
        {
            Assert.Equal((Path.GetFileName(file), UnixFileMode.UserRead | UnixFileMode.UserWrite), (Path.GetFileName(file), File.GetUnixFileMode(file)));
        }
    }

    [Fact]
    public void A_new_database_takes_the_configured_page_size_and_an_existing_one_keeps_its_own()
    {
        static long PageSize(SqliteDatabase database)
        {
            using var connection = database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA page_size;";
            return (long)command.ExecuteScalar()!;
        }

        Assert.Equal(1024, PageSize(new SqliteDatabase(_folder.Path, new Parley.Server.Configuration.StorageOptions { PageSize = 1024 })));
        // WAL mode fixes the page size once the file exists: a later setting does not rewrite it.
        Assert.Equal(1024, PageSize(new SqliteDatabase(_folder.Path, new Parley.Server.Configuration.StorageOptions { PageSize = 4096 })));
    }

    [Fact]
    public async Task A_deleted_envelope_body_leaves_no_trace_of_its_bytes_in_the_database_file()
    {
        var marker = "secret-marker-" + Guid.NewGuid().ToString("N");
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using (var store = _folder.OpenStore(database))
        {
            // Neighbours on both sides keep the page in use: only the deleted cell must be wiped.
            var before = Queued("before-" + new string('x', 200));
            var secret = Queued(marker);
            var after = Queued("after-" + new string('y', 200));
            Assert.True(await store.AppendAsync(null, [before, secret, after]));
            await store.AckAsync(Device, [secret.Envelope.Seq], []);
        } // stopping deletes every acked body
        using (var connection = database.Open())
        {
            SqliteDatabase.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(database.Path);
        Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("before-")) >= 0, "the kept neighbour is in the file");
        Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker)) < 0, "the deleted body was overwritten");
    }

    [Fact]
    public async Task Expiry_deletes_every_envelope_past_its_time_in_chunks_and_keeps_the_rest_in_order()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage); // 30-day time to live
        await using var store = _folder.OpenStore(database, time);
        // More than one expiry chunk (4096) of old envelopes, for this device and another.
        var old = Enumerable.Range(0, 5000).Select(i => new QueuedEnvelope(i % 2 == 0 ? Device : Device + 1, new Envelope { Kind = EnvelopeKind.Message })).ToList();
        Assert.True(await store.AppendAsync(null, old));
        time.Advance(TimeSpan.FromDays(10));
        var fresh = new[] { Queued("fresh-1"), Queued("fresh-2") };
        Assert.True(await store.AppendAsync(null, fresh));

        time.Advance(TimeSpan.FromDays(21)); // the old ones are 31 days old, the fresh ones 21
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal(5000, await store.DeleteExpiredAsync(now, 0));

        Assert.Equal(["fresh-1", "fresh-2"], store.ReadQueue(Device, 0, 100).Select(e => e.Payload.ToStringUtf8()));
        Assert.Empty(store.ReadQueue(Device + 1, 0, 100));
        Assert.Equal(0, await store.DeleteExpiredAsync(now, 0));
        using var check = database.Open();
        Assert.Equal(2L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM envelopes"));
    }

    [Fact]
    public async Task Dedup_entries_older_than_the_cut_are_forgotten_and_newer_ones_still_dedup()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var database = new SqliteDatabase(_folder.Path, _folder.Options.Storage);
        await using var store = _folder.OpenStore(database, time);
        // Many senders of one message id and many ids: the walk goes through several chunks.
        var oldKeys = Enumerable.Range(0, 5000).Select(i => new DedupKey(i % 3, MessageId.New(time))).Append(new DedupKey(7, new byte[16])).Append(new DedupKey(8, new byte[16])).ToList();
        Assert.All(await Task.WhenAll(oldKeys.Select(key => store.AppendAsync(key, []))), Assert.True);
        time.Advance(TimeSpan.FromDays(8));
        var recent = new DedupKey(1, MessageId.New(time));
        Assert.True(await store.AppendAsync(recent, []));

        var cut = (time.GetUtcNow() - TimeSpan.FromDays(7)).ToUnixTimeMilliseconds();
        await store.DeleteExpiredAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), cut);

        bool recentFresh = await store.AppendAsync(recent, []);
        bool oldFresh = await store.AppendAsync(oldKeys[0], []);
        bool sharedFresh = await store.AppendAsync(oldKeys[^1], []);
        // An append completes on the store's writer thread: leave it before the store is disposed.
        await Task.Yield();
        Assert.False(recentFresh, "a recent id still dedups");
        Assert.True(oldFresh, "an old id is forgotten");
        Assert.True(sharedFresh, "every sender of a shared id is forgotten");
        using var check = database.Open();
        Assert.Equal(3L, QueueStoreFolder.Scalar(check, "SELECT COUNT(*) FROM dedup"));
    }

    private static QueuedEnvelope Queued(string text) =>
        new(Device, new Envelope { Kind = EnvelopeKind.Message, Payload = ByteString.CopyFromUtf8(text) });
}
