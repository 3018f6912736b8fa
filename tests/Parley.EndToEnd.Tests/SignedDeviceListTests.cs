using System.Collections.Concurrent;
using Parley.Client;
using Parley.Client.Encryption;
using Parley.Client.Events;
using Parley.Client.Storage;
using Parley.Crypto.Fingerprints;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>Account keys and signed device lists with the real server and SDK: linking, injected devices, migration.</summary>
public sealed class SignedDeviceListTests
{
    [Fact]
    public async Task Linking_a_device_changes_no_safety_number_and_warns_no_contact()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var changes = new ConcurrentQueue<IdentityChangedEventArgs>();
        alice.IdentityChanged += (_, e) => changes.Enqueue(e);
        await alice.SendTextAsync("bob", "before", Wait.Token());
        await alice.MarkVerifiedAsync("bob", Wait.Token());
        var before = await alice.GetSafetyNumberAsync("bob", Wait.Token());
        Assert.Equal(before, await bob.GetSafetyNumberAsync("alice", Wait.Token()));

        var bobLaptop = await server.LinkAsync(bob);
        var laptop = new Inbox(bobLaptop);
        await alice.SendTextAsync("bob", "after the link", Wait.Token()); // verified, and still sent

        await bobLaptop.SyncAsync(Wait.Token());
        await laptop.CountAsync(1);
        Assert.Equal(["after the link"], laptop.Texts);
        Assert.Empty(changes);
        Assert.True(alice.IsVerified("bob"));
        Assert.Equal(before, await alice.GetSafetyNumberAsync("bob", Wait.Token()));
        Assert.Equal(before, await bobLaptop.GetSafetyNumberAsync("alice", Wait.Token()));
        Assert.NotEqual(bob.Store.GetIdentityKeyPair().IdentityKey, bobLaptop.Store.GetIdentityKeyPair().IdentityKey); // each device has its own key
        Assert.Equal(bob.AccountKey, bobLaptop.AccountKey);
        Assert.True(bob.IsPrimaryDevice);
        Assert.False(bobLaptop.IsPrimaryDevice);
    }

    [Fact]
    public async Task A_device_the_server_adds_to_an_account_outside_its_signed_list_gets_no_payload_and_no_session()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(bob);
        // The server (or whoever holds a device secret of bob's) makes a device of its own and publishes keys for it.
        await using var injected = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password);
        await injected.UploadKeysOnlyAsync(IdentityKeyPair.Generate());

        await alice.SendTextAsync("bob", "for bob's real devices only", Wait.Token());

        await bob.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);
        Assert.Equal(["for bob's real devices only"], inbox.Texts);
        await injected.RequestAsync(new ClientFrame { Ping = new Ping() });
        var envelope = Assert.Single(injected.Envelopes, e => e.Kind == EnvelopeKind.Message);
        Assert.True(envelope.Payload.IsEmpty);
        Assert.Null(alice.SessionVersionWith("bob", injected.Credentials.DeviceId));
        Assert.Null(alice.Store.GetIdentity(new Parley.Crypto.ProtocolAddress("bob", injected.Credentials.DeviceId)));

        // Its own attempt to publish a list naming itself under bob's account key fails: it cannot sign one.
        var forged = await injected.PublishListAsync(IdentityKeyPair.Generate(), 99, (1, bob.Store.GetIdentityKeyPair().IdentityKey));
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, forged.BodyCase); // a new account key is a re-registration to the server...
        var changes = new ConcurrentQueue<IdentityChangedEventArgs>();
        alice.IdentityChanged += (_, e) => changes.Enqueue(e);
        await alice.GetDevicesAsync("bob", Wait.Token());
        Assert.Equal("bob", Assert.Single(changes).Peer); // ...and every contact is warned of it.
    }

    [Fact]
    public async Task A_message_from_a_device_the_server_adds_outside_the_senders_signed_list_is_dropped_unread()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(alice);
        var failures = new ConcurrentQueue<DecryptionFailedEventArgs>();
        alice.DecryptionFailed += (_, e) => failures.Enqueue(e);
        await bob.SendTextAsync("alice", "from bob's phone", Wait.Token());
        await alice.SyncAsync(Wait.Token()); // alice has never sent to bob: his list is fetched on receipt
        await inbox.CountAsync(1);

        // The server makes a device of its own in bob's account: a full client with its own keys and bob's public account key.
        DeviceCredentials creds;
        await using (var raw = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password))
        {
            creds = raw.Credentials;
        }
        var dir = server.NewProfileDir();
        using (var store = ClientStore.Open(dir))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(server.BaseUri, creds.User, creds.DeviceId, creds.Password));
            PreKeyRefill.EnsureIdentity(store, IdentityKeyPair.Generate());
            store.SaveAccountKeys(null, bob.AccountKey!);
        }
        var injected = server.Reopen(dir);
        await injected.SendTextAsync("alice", "forged as bob", Wait.Token());
        await bob.SendTextAsync("alice", "bob again", Wait.Token());

        await inbox.CountAsync(2);
        await Wait.UntilAsync(() => failures.Any(f => f.Reason == "unlisted_device"), "the injected device's message dropped");
        Assert.Equal(["from bob's phone", "bob again"], inbox.Texts);
        var dropped = Assert.Single(failures);
        Assert.Equal(("bob", creds.DeviceId, false), (dropped.Sender, dropped.SenderDevice, dropped.RetryRequested));
        Assert.Null(alice.SessionVersionWith("bob", creds.DeviceId));
    }

    [Fact]
    public async Task A_first_message_from_a_listed_device_id_under_another_identity_key_is_dropped_unread_and_the_chat_goes_on()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var bob = await server.RegisterAsync("bob");
        var inbox = new Inbox(alice);
        var failures = new ConcurrentQueue<DecryptionFailedEventArgs>();
        alice.DecryptionFailed += (_, e) => failures.Enqueue(e);
        await bob.SendTextAsync("alice", "from bob's phone", Wait.Token());
        await alice.SyncAsync(Wait.Token());
        await inbox.CountAsync(1);
        var bobAddress = new Parley.Crypto.ProtocolAddress("bob", bob.Credentials.DeviceId);
        var bobKey = alice.Store.GetIdentity(bobAddress)!.Serialize();

        // The server speaks as bob's listed device itself (its id and password) but with an identity key of its own:
        // its first message is a PreKey message carrying that key, which bob's signed list does not name.
        var dir = server.NewProfileDir();
        using (var store = ClientStore.Open(dir))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password));
            PreKeyRefill.EnsureIdentity(store, IdentityKeyPair.Generate());
            store.SaveAccountKeys(null, bob.AccountKey!);
        }
        await using (var impostor = server.Reopen(dir))
        {
            await impostor.SendTextAsync("alice", "forged as bob's phone", Wait.Token());
        }
        await Wait.UntilAsync(() => failures.Any(f => f.Reason == "unlisted_identity"), "the impostor's message dropped");

        // The real device's session was not replaced: its next message opens, and alice's reply reaches it.
        var bobInbox = new Inbox(bob);
        await bob.SendTextAsync("alice", "bob again", Wait.Token());
        await inbox.CountAsync(2);
        await alice.SendTextAsync("bob", "hi bob", Wait.Token());
        await bobInbox.CountAsync(1);
        Assert.Equal(["from bob's phone", "bob again"], inbox.Texts);
        Assert.Equal(["hi bob"], bobInbox.Texts);
        var dropped = Assert.Single(failures);
        Assert.Equal(("bob", bob.Credentials.DeviceId, false), (dropped.Sender, dropped.SenderDevice, dropped.RetryRequested));
        Assert.Equal(bobKey, alice.Store.GetIdentity(bobAddress)!.Serialize());
    }

    [Fact]
    public async Task A_profile_and_account_from_before_account_keys_migrate_and_keep_their_safety_number()
    {
        await using var server = await TestServer.StartAsync();
        // What today's main made: device 1 and a linked device 2 sharing one identity key, no device list on the server.
        var raw1 = await RawDevice.RegisterAsync(server.BaseUri, "alice");
        var raw2 = await RawDevice.LinkAsync(server.BaseUri, "alice", 1, raw1.Credentials.Password);
        var shared = IdentityKeyPair.Generate();
        var phoneDir = OldProfile(server, raw1.Credentials, shared);
        var laptopDir = OldProfile(server, raw2.Credentials, shared);
        await raw1.DisposeAsync();
        await raw2.DisposeAsync();

        var phone = server.Reopen(phoneDir);
        var laptop = server.Reopen(laptopDir);
        var phoneInbox = new Inbox(phone);
        var laptopInbox = new Inbox(laptop);
        Assert.True(phone.IsPrimaryDevice);
        Assert.Equal(shared.IdentityKey, phone.AccountKey);
        Assert.Equal(shared.IdentityKey, laptop.AccountKey);
        await phone.ConnectAsync(Wait.Token()); // the migrated primary publishes the account's first signed list
        await laptop.ConnectAsync(Wait.Token());
        await Wait.UntilAsync(() => phone.Store.TrustedList("alice") is { Devices.Count: 2 }, "alice's first signed list, published");
        var bob = await server.RegisterAsync("bob");

        await bob.SendTextAsync("alice", "after the migration", Wait.Token());
        await phoneInbox.CountAsync(1);
        await laptopInbox.CountAsync(1);
        var expected = new FingerprintGenerator().Create("bob", bob.AccountKey!, "alice", shared.IdentityKey).Displayable.Digits;
        Assert.Equal(expected, await bob.GetSafetyNumberAsync("alice", Wait.Token()));
        Assert.Equal(expected, await phone.GetSafetyNumberAsync("bob", Wait.Token()));
        await laptop.SendTextAsync("bob", "from the old laptop", Wait.Token());
    }

    private static string OldProfile(TestServer server, DeviceCredentials creds, IdentityKeyPair shared)
    {
        var dir = server.NewProfileDir();
        using var store = ClientStore.Open(dir);
        store.SaveCredentials(new DeviceCredentialsProfile(server.BaseUri, creds.User, creds.DeviceId, creds.Password));
        PreKeyRefill.EnsureIdentity(store, shared);
        return dir;
    }
}
