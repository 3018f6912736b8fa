using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Client.Events;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Protocol;
using Parley.Server.Gateway;

namespace Parley.EndToEnd.Tests;

/// <summary>End-to-end encryption with the real server and real SDK clients.</summary>
public sealed class EncryptionTests
{
    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static IEnumerable<(string Path, byte[] Bytes)> FilesUnder(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(path =>
        {
            // The server (or client) still has its SQLite files open: read beside it, WAL and all.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (path, copy.ToArray());
        });

    [Fact]
    public async Task The_server_never_holds_a_message_text_while_the_recipient_reads_it()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        const string marker = "MARKER-only-bob-may-read-this-3f9c2a";
        var needle = Encoding.UTF8.GetBytes(marker);

        await alice.SendTextAsync("bob", marker, Wait.Token());
        await inbox.CountAsync(1);
        await alice.SendTextAsync("bob", "a second message, so the first one's envelopes are certainly stored and acked", Wait.Token());
        await inbox.CountAsync(2);

        // Control: the recipient decrypted the marker, and the same file scan finds it in the recipient's own store.
        Assert.Equal(marker, inbox.Texts[0]);
        Assert.Contains(FilesUnder(bob.ProfileDirectory), f => Contains(f.Bytes, needle));

        // The tap saw the send (its ciphertext payload for bob) but never the text.
        Assert.Contains(tap.Sends, s => s.Payloads.Any(p => p.User == "bob" && p.Payload.Length > needle.Length));
        Assert.DoesNotContain(tap.Frames, f => Contains(f.Bytes, needle));
        var files = FilesUnder(server.DataDir).ToList();
        Assert.Contains(files, f => f.Path.EndsWith("-wal", StringComparison.Ordinal)); // the write-ahead log is searched too
        Assert.DoesNotContain(files, f => Contains(f.Bytes, needle));
    }

    [Fact]
    public async Task The_first_message_is_a_PQXDH_prekey_message_when_the_bundle_has_a_Kyber_prekey()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);

        await alice.SendTextAsync("bob", "post-quantum hello", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);

        var payload = tap.Sends.First().Payloads.Single(p => p.User == "bob").Payload.ToByteArray();
        Assert.Equal((byte)CiphertextMessageType.PreKey, payload[0]);
        var first = PreKeySignalMessage.Deserialize(payload.AsSpan(1));
        Assert.Equal(4, first.MessageVersion);
        Assert.NotNull(first.KyberPreKeyId);
        Assert.NotNull(first.KyberCiphertext);
        Assert.Equal(4u, alice.Testing.SessionVersionWith("bob", 1));
        Assert.Equal(4u, bob.Testing.SessionVersionWith("alice", 1));
        Assert.Equal("post-quantum hello", inbox.Texts.Single());

        // The post-quantum prekeys devices publish are FIPS 203 ML-KEM-1024 (libsignal type byte 0x0A).
        var uploads = tap.Frames.Where(f => f.Inbound).Select(f => ClientFrame.Parser.ParseFrom(f.Bytes))
            .Where(f => f.UploadPrekeys?.KyberLastResort is not null).ToList();
        Assert.NotEmpty(uploads);
        Assert.All(uploads, u => Assert.Equal((byte)KemKeyType.MlKem1024, u.UploadPrekeys.KyberLastResort.PublicKey[0]));
    }

    [Fact]
    public async Task Sessions_and_keys_survive_restarting_both_clients()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        await alice.SendTextAsync("bob", "before the restart", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        var aliceDir = alice.ProfileDirectory;
        var bobDir = bob.ProfileDirectory;
        await alice.DisposeAsync();
        await bob.DisposeAsync();

        var alice2 = server.Reopen(aliceDir);
        var bob2 = server.Reopen(bobDir);
        var inbox = new Inbox(bob2);
        var uploadsBefore = bob2.Testing.PreKeyUploads;
        await alice2.SendTextAsync("bob", "after the restart", Wait.Token());
        await bob2.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);

        Assert.Equal("after the restart", inbox.Texts.Single());
        Assert.Empty(inbox.DecryptionFailures); // the same session went on: no retry, no new keys
        Assert.Equal(uploadsBefore, bob2.Testing.PreKeyUploads);
        Assert.Equal(4u, bob2.Testing.SessionVersionWith("alice", 1));
        Assert.Equal(["before the restart", "after the restart"], bob2.GetConversation("alice").Select(m => m.Text));
    }

    [Fact]
    public async Task Prekeys_are_refilled_after_fetches_use_them_up_and_the_new_ones_work()
    {
        // One requester drains bob here: every fetch limit is lifted (AbuseLimitTests in the server tests cover them).
        await using var server = await TestServer.StartAsync(o => (o.Limits.BundleFetchesPerMinute, o.Limits.PreKeyFetchesPerDevicePairPerHour, o.Limits.OneTimePreKeyBurst) = (10_000, 10_000, 10_000));
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        Assert.Equal(1, bob.Testing.PreKeyUploads); // the registration upload
        await using var mallory = await RawDevice.RegisterAsync(server.BaseUri, "mallory");

        async Task<Parley.Protocol.PreKeyBundle> FetchAsync()
        {
            var answer = await mallory.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } });
            return Assert.Single(answer.PrekeyBundles.Bundles);
        }

        // 95 of the 100 one-time EC prekeys (and all 40 one-time Kyber ones) go: the server tells bob, bob refills.
        for (var i = 0; i < 95; i++)
        {
            await FetchAsync();
        }
        await Wait.UntilAsync(() => bob.Testing.EcPreKeyRefills >= 1, "an EC prekey refill");
        Assert.True(bob.Testing.PreKeyUploads >= 3); // registration, the Kyber refill (at 9 of 40 left), the EC refill

        // Keys from the new batch are handed out (ids past the first 100), and a session made from one works.
        var sawNewBatch = false;
        for (var i = 0; i < 10 && !sawNewBatch; i++)
        {
            var bundle = await FetchAsync();
            Assert.NotNull(bundle.OneTimePrekey);
            sawNewBatch = bundle.OneTimePrekey.Id > 100;
        }
        Assert.True(sawNewBatch);
        var alice = await server.RegisterAsync("alice");
        await alice.SendTextAsync("bob", "made from a refilled prekey", Wait.Token());
        await inbox.CountAsync(1);
        Assert.Equal("made from a refilled prekey", inbox.Texts.Single());
    }

    /// <summary>The system clock moved forward by <see cref="Offset"/> (timers still run in real time).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    [Fact]
    public async Task A_rotated_signed_prekey_still_opens_prekey_messages_made_before_the_rotation()
    {
        var time = new ShiftedTime();
        await using var server = await TestServer.StartAsync(time: time);
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await alice.SendTextAsync("bob", "made with the first signed prekey", Wait.Token()); // bob is offline

        time.Offset = TimeSpan.FromDays(8); // past the server's 7-day rotation period
        await bob.ConnectAsync(Wait.Token());
        await Wait.UntilAsync(() => bob.Testing.PreKeyUploads == 2, "the rotation upload");
        await inbox.CountAsync(1);

        await using var carol = await RawDevice.RegisterAsync(server.BaseUri, "carol");
        var bundle = (await carol.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } })).PrekeyBundles.Bundles.Single();
        Assert.Equal(2, bob.Testing.Store.LoadSignedPreKeys().Count); // the new one, and the previous one kept for messages in flight
        Assert.Equal(bob.Testing.Store.NewestSignedPreKeyId(), bundle.SignedPrekey.Id);
        Assert.NotEqual(1u, bundle.SignedPrekey.Id);
        await alice.SendTextAsync("bob", "after the rotation", Wait.Token());
        await inbox.CountAsync(2);
        Assert.Equal(["made with the first signed prekey", "after the rotation"], inbox.Texts);
    }

    [Fact]
    public async Task A_changed_identity_warns_and_a_verified_peer_gets_nothing_until_the_new_key_is_accepted()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        var changes = new ConcurrentQueue<IdentityChangedEventArgs>();
        alice.IdentityChanged += (_, e) => changes.Enqueue(e);
        await alice.SendTextAsync("bob", "before", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await alice.MarkVerifiedAsync("bob", Wait.Token());
        Assert.True(alice.IsVerified("bob"));

        // bob's account key changes (a re-registration, or an attacker with bob's device secret): a new
        // list under a new account key names bob's device and a new one.
        await using var impostor = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password);
        var impostorIdentity = IdentityKeyPair.Generate();
        await impostor.UploadKeysAsync(impostorIdentity);
        await impostor.PublishListAsync(IdentityKeyPair.Generate(), 1, (1, bob.Store.GetIdentityKeyPair().IdentityKey), (impostor.Credentials.DeviceId, impostorIdentity.IdentityKey));

        var refused = await Assert.ThrowsAsync<ParleyException>(() => alice.SendTextAsync("bob", "held back", Wait.Token()));
        Assert.Equal("identity_changed", refused.ApiCode);
        Assert.Contains("safety number with bob changed", refused.Message, StringComparison.Ordinal);
        var change = Assert.Single(changes);
        Assert.Equal(("bob", true), (change.Peer, change.WasVerified));
        Assert.StartsWith("safety number with bob changed", change.Warning, StringComparison.Ordinal);
        Assert.True(alice.HasUnacceptedIdentityChange("bob"));
        Assert.False(alice.IsVerified("bob"));

        await alice.AcceptIdentityAsync("bob", Wait.Token());
        await alice.SendTextAsync("bob", "after accepting", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await bobInbox.CountAsync(2);
        Assert.Equal(["before", "after accepting"], bobInbox.Texts);
        Assert.Contains(impostor.Envelopes, e => e.Kind == EnvelopeKind.Message);
        Assert.Single(changes);
    }

    [Fact]
    public async Task A_changed_identity_of_an_unverified_peer_only_warns()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var changes = new ConcurrentQueue<IdentityChangedEventArgs>();
        alice.IdentityChanged += (_, e) => changes.Enqueue(e);
        await alice.SendTextAsync("bob", "hello", Wait.Token());
        await using var other = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password);
        var otherIdentity = IdentityKeyPair.Generate();
        await other.UploadKeysAsync(otherIdentity);
        await other.PublishListAsync(IdentityKeyPair.Generate(), 1, (1, bob.Store.GetIdentityKeyPair().IdentityKey), (other.Credentials.DeviceId, otherIdentity.IdentityKey));

        await alice.SendTextAsync("bob", "still sent", Wait.Token());

        var change = Assert.Single(changes);
        Assert.Equal(("bob", false, "safety number with bob changed"), (change.Peer, change.WasVerified, change.Warning));
    }

    [Fact]
    public async Task A_recipient_that_lost_its_sessions_still_gets_the_next_message_exactly_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        await alice.ConnectAsync(Wait.Token());
        await alice.SendTextAsync("bob", "one", Wait.Token());
        await inbox.CountAsync(1);
        var aliceInbox = new Inbox(alice);
        await bob.SendTextAsync("alice", "reply", Wait.Token());
        await aliceInbox.CountAsync(1);
        await alice.SendTextAsync("bob", "two", Wait.Token()); // alice's session is answered now: a plain ratchet message
        await inbox.CountAsync(2);

        // bob's device loses every session (a restore from an old backup, a damaged store).
        Assert.True(bob.Testing.DeleteAllSessionRecords() > 0);

        var three = await alice.SendTextAsync("bob", "three", Wait.Token());
        await inbox.CountAsync(3);
        var four = await alice.SendTextAsync("bob", "four", Wait.Token());
        await inbox.CountAsync(4);

        Assert.Equal(["one", "two", "three", "four"], inbox.Texts);
        await aliceInbox.StatusAsync(three, MessageStatus.Delivered); // the resend's receipt counts for the original
        Assert.Equal(three, inbox.Messages[2].Id); // the resend keeps the original id
        var failure = Assert.Single(inbox.DecryptionFailures);
        Assert.Equal(("alice", three, true), (failure.Sender, failure.MessageId, failure.RetryRequested));
        Assert.Single(bob.GetConversation("alice"), m => m.Id == three);
        Assert.Single(bob.GetConversation("alice"), m => m.Id == four);
    }

    [Fact]
    public async Task Damaged_session_records_on_both_sides_heal_and_every_message_arrives_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var bobInbox = new Inbox(bob);
        var aliceInbox = new Inbox(alice);
        await bob.ConnectAsync(Wait.Token());
        await alice.SendTextAsync("bob", "one", Wait.Token());
        await bobInbox.CountAsync(1);
        await bob.SendTextAsync("alice", "reply", Wait.Token());
        await aliceInbox.CountAsync(1);

        Assert.True(bob.Testing.DamageAllSessionRecords() > 0);
        Assert.True(alice.Testing.DamageAllSessionRecords() > 0);
        await alice.SendTextAsync("bob", "two", Wait.Token()); // alice starts over from a fresh bundle
        await bobInbox.CountAsync(2);
        Assert.True(bob.Testing.DamageAllSessionRecords() > 0);
        await alice.SendTextAsync("bob", "three", Wait.Token()); // bob cannot read it: retry request, resend
        await bobInbox.CountAsync(3);
        await bob.SendTextAsync("alice", "still here", Wait.Token());
        await aliceInbox.CountAsync(2);

        Assert.Equal(["one", "two", "three"], bobInbox.Texts);
        Assert.Equal(["reply", "still here"], aliceInbox.Texts);
    }

    [Fact]
    public async Task An_own_device_that_lost_its_sessions_still_gets_the_sync_copy_exactly_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var phone = await server.LinkAsync(alice);
        await server.RegisterAsync("bob");
        var phoneInbox = new Inbox(phone);
        await phone.ConnectAsync(Wait.Token());
        await alice.SendTextAsync("bob", "first", Wait.Token());
        await Wait.UntilAsync(() => phone.FindMessage(phoneInbox.Messages.FirstOrDefault()?.Id ?? "") is not null, "the first sync copy");

        Assert.True(phone.Testing.DeleteAllSessionRecords() > 0);
        var second = await alice.SendTextAsync("bob", "second", Wait.Token());

        await Wait.UntilAsync(() => phone.FindMessage(second) is not null, "the second sync copy, after a retry request");
        Assert.Equal(["first", "second"], phone.GetConversation("bob").Select(m => m.Text));
        Assert.All(phone.GetConversation("bob"), m => Assert.Equal(MessageDirection.Outgoing, m.Direction));
        var failure = Assert.Single(phoneInbox.DecryptionFailures);
        Assert.Equal(("alice", second), (failure.Sender, failure.MessageId));
    }

    [Fact]
    public async Task Sending_to_a_device_that_published_no_keys_fails_clearly_and_sends_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await using var keyless = await RawDevice.RegisterAsync(server.BaseUri, "keyless");
        var keylessAccount = IdentityKeyPair.Generate();
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await keyless.PublishListAsync(keylessAccount, 1, (1, keylessAccount.IdentityKey))).BodyCase);

        var refused = await Assert.ThrowsAsync<ParleyException>(() => alice.SendTextAsync("keyless", "cannot be encrypted", Wait.Token()));

        Assert.Equal((ErrorCode.NotFound, "no_keys"), (refused.Code, refused.ApiCode));
        Assert.Contains("has not published encryption keys", refused.Message, StringComparison.Ordinal);
        Assert.Equal(MessageStatus.Failed, alice.GetConversation("keyless").Single().Status);
        Assert.Equal(0, alice.PendingSends);
        await keyless.RequestAsync(new ClientFrame { Ping = new Ping() }); // anything queued would have arrived before this answer
        Assert.Empty(keyless.Envelopes);
    }

    [Fact]
    public async Task A_garbage_payload_is_acked_reported_and_answered_with_a_retry_request_and_later_messages_still_arrive()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        await bob.ConnectAsync(Wait.Token());
        await using var mallory = await RawDevice.RegisterAsync(server.BaseUri, "mallory");
        // A validly signed list naming mallory's device: a device outside one is not heard at all (SignedDeviceListTests).
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await mallory.PublishListAsync(IdentityKeyPair.Generate(), 1, (1, IdentityKeyPair.Generate().IdentityKey))).BodyCase);

        var garbageIds = new List<byte[]>();
        foreach (var payload in new[] { new byte[] { 3, 0xFF, 0x00, 0x13 }, [2, .. Enumerable.Repeat((byte)0x41, 80)], [], [9, 1, 2] })
        {
            var id = MessageId.New();
            garbageIds.Add(id);
            var send = new SendMessage { MessageId = ByteString.CopyFrom(id), Recipient = "bob", SentAt = 1, Kind = EnvelopeKind.Message };
            send.Payloads.Add(new DevicePayload { User = "bob", DeviceId = 1, Payload = ByteString.CopyFrom(payload) });
            Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await mallory.RequestAsync(new ClientFrame { Send = send })).BodyCase);
        }
        await alice.SendTextAsync("bob", "a real message after the garbage", Wait.Token());

        await inbox.CountAsync(1);
        Assert.Equal("a real message after the garbage", inbox.Texts.Single());
        await Wait.UntilAsync(() => inbox.DecryptionFailures.Count == 4, "four decryption failures");
        Assert.All(inbox.DecryptionFailures, f => Assert.Equal(("mallory", true), (f.Sender, f.RetryRequested)));
        await Wait.UntilAsync(() => mallory.Envelopes.Count(e => e.Kind == EnvelopeKind.RetryRequest) == 4, "four retry requests at mallory");
        Assert.Equal(
            garbageIds.Select(i => MessageId.ToText(i)).Order(),
            mallory.Envelopes.Where(e => e.Kind == EnvelopeKind.RetryRequest).Select(e => MessageId.ToText(e.MessageId.Span)).Order());
        Assert.Empty(bob.GetConversation("mallory"));
    }

    [Fact]
    public async Task A_replayed_envelope_is_acked_and_shown_once()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        bob.Testing.AcksEnabled = false;
        await alice.SendTextAsync("bob", "only once", Wait.Token());
        await bob.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);

        // The envelope was never acked: the next connection gets the same ciphertext again.
        bob.Testing.AcksEnabled = true;
        await bob.DisconnectAsync();
        await bob.SyncAsync(Wait.Token());
        await Wait.UntilAsync(() => bob.Testing.DuplicateDeliveries == 1, "the replay recognised");
        await bob.DisconnectAsync();
        var drained = new Inbox(bob);
        await bob.SyncAsync(Wait.Token());

        Assert.Equal(["only once"], inbox.Texts);
        Assert.Empty(drained.Messages);
        Assert.Empty(inbox.DecryptionFailures);
    }
}
