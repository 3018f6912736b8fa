using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Parley.Crypto.Keys;
using Parley.Protocol;
using Parley.Server.Keys;
using Parley.Server.Storage.Sqlite;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Resends answer only the device a message went to, and only while it has the same identity key:
/// a forged or replayed RETRY_REQUEST makes the sender encrypt its plaintext to no one new.
/// </summary>
public sealed class ResendTests
{
    [Fact]
    public async Task A_retry_request_from_the_device_a_message_went_to_gets_a_resend_to_that_device_alone()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await using var bob = await RawDevice.RegisterAsync(server.BaseUri, "bob");
        await bob.UploadKeysAsync(IdentityKeyPair.Generate());
        var id = await alice.SendTextAsync("bob", "secret", Wait.Token());

        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await RetryRequestAsync(bob, id)).BodyCase);

        await Wait.UntilAsync(() => MessagesFromAlice(bob).Count == 2, "the resend at bob");
        var resend = MessagesFromAlice(bob)[1];
        Assert.NotEqual(id, MessageId.ToText(resend.MessageId.Span)); // a resend travels under a fresh id
    }

    [Fact]
    public async Task A_retry_request_from_a_device_the_message_never_went_to_gets_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        await using var bob = await RawDevice.RegisterAsync(server.BaseUri, "bob");
        var identity = IdentityKeyPair.Generate();
        await bob.UploadKeysAsync(identity);
        var id = await alice.SendTextAsync("bob", "secret", Wait.Token());
        // A device linked afterwards (or one the server invents) asks for the message.
        await using var newcomer = await RawDevice.LinkAsync(server.BaseUri, "bob", bob.Credentials.DeviceId, bob.Credentials.Password);
        await newcomer.UploadKeysAsync(identity);

        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await RetryRequestAsync(newcomer, id, otherDevice: bob.Credentials.DeviceId)).BodyCase);
        // The newcomer is outside bob's signed list, so alice drops its messages unread: the barrier goes through bob.
        await AliceHasHandledEverythingAsync(bob, otherDevice: newcomer.Credentials.DeviceId);
        await newcomer.RequestAsync(new ClientFrame { Ping = new Ping() }); // anything queued for it arrives before this answer

        Assert.Empty(MessagesFromAlice(newcomer));
        Assert.Single(MessagesFromAlice(bob));
    }

    [Fact]
    public async Task A_resend_is_dropped_when_the_server_serves_another_identity_key_for_the_device()
    {
        var keys = new SwappingKeyStore();
        await using var server = await TestServer.StartAsync(services: s =>
        {
            s.AddSingleton<SqliteDeviceKeyStore>();
            s.AddSingleton<IDeviceKeyStore>(sp => keys.Wrap(sp.GetRequiredService<SqliteDeviceKeyStore>()));
        });
        var alice = await server.RegisterAsync("alice");
        await using var bob = await RawDevice.RegisterAsync(server.BaseUri, "bob");
        var bobIdentity = IdentityKeyPair.Generate();
        await bob.UploadKeysAsync(bobIdentity);
        await using var impostor = await RawDevice.RegisterAsync(server.BaseUri, "impostor");
        var impostorIdentity = IdentityKeyPair.Generate();
        await impostor.UploadKeysAsync(impostorIdentity);
        var id = await alice.SendTextAsync("bob", "secret", Wait.Token());

        // From now on the server answers bob's bundle with the impostor's keys (valid signatures, another identity).
        keys.Serve(bobIdentity.IdentityKey.Serialize(), insteadWith: impostorIdentity.IdentityKey.Serialize());
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await RetryRequestAsync(bob, id)).BodyCase);
        await AliceHasHandledEverythingAsync(bob);

        Assert.Single(MessagesFromAlice(bob));
        Assert.True(keys.SwappedFetches > 0, "alice fetched the swapped bundle and sent nothing with it");
    }

    private static List<Envelope> MessagesFromAlice(RawDevice device) =>
        [.. device.Envelopes.Where(e => e.Kind == EnvelopeKind.Message && e.Sender == "alice")];

    private static Task<ServerFrame> RetryRequestAsync(RawDevice device, string messageId, uint? otherDevice = null)
    {
        var send = new SendMessage { MessageId = ByteString.CopyFrom(MessageId.Parse(messageId)), Recipient = "alice", SentAt = 1, Kind = EnvelopeKind.RetryRequest };
        send.Payloads.Add(new DevicePayload { User = "alice", DeviceId = 1 });
        if (otherDevice is uint other)
        {
            send.Payloads.Add(new DevicePayload { User = "bob", DeviceId = other });
        }
        return device.RequestAsync(new ClientFrame { Send = send });
    }

    /// <summary>
    /// Sends alice a payload she cannot decrypt and waits for her retry request: she handles her
    /// queue in order and sends her outbox in order, so a resend queued for anything before it
    /// would have reached <paramref name="device"/> first.
    /// </summary>
    private static async Task AliceHasHandledEverythingAsync(RawDevice device, uint? otherDevice = null)
    {
        var garbage = MessageId.New();
        var send = new SendMessage { MessageId = ByteString.CopyFrom(garbage), Recipient = "alice", SentAt = 1, Kind = EnvelopeKind.Message };
        send.Payloads.Add(new DevicePayload { User = "alice", DeviceId = 1, Payload = ByteString.CopyFrom(3, 0xFF, 0x00) });
        if (otherDevice is uint other)
        {
            send.Payloads.Add(new DevicePayload { User = "bob", DeviceId = other, Payload = ByteString.CopyFrom(3, 0xFF, 0x00) });
        }
        Assert.Equal(ServerFrame.BodyOneofCase.SendResult, (await device.RequestAsync(new ClientFrame { Send = send })).BodyCase);
        await Wait.UntilAsync(
            () => device.Envelopes.Any(e => e.Kind == EnvelopeKind.RetryRequest && e.MessageId.Span.SequenceEqual(garbage)),
            "alice's retry request for the undecryptable message");
    }

    /// <summary>A server's key store that, once told, answers for one device with another device's keys.</summary>
    private sealed class SwappingKeyStore
    {
        private readonly Dictionary<string, long> _byIdentity = [];
        private long? _from;
        private long? _to;
        private int _swapped;

        public int SwappedFetches => Volatile.Read(ref _swapped);

        public IDeviceKeyStore Wrap(IDeviceKeyStore inner) => new Store(this, inner);

        public void Serve(byte[] identity, byte[] insteadWith)
        {
            lock (_byIdentity)
            {
                _from = _byIdentity[Convert.ToHexString(identity)];
                _to = _byIdentity[Convert.ToHexString(insteadWith)];
            }
        }

        private long Route(long deviceKey)
        {
            lock (_byIdentity)
            {
                if (deviceKey == _from && _to is long to)
                {
                    Interlocked.Increment(ref _swapped);
                    return to;
                }
                return deviceKey;
            }
        }

        private sealed class Store(SwappingKeyStore swap, IDeviceKeyStore inner) : IDeviceKeyStore
        {
            public StoredDeviceKeys? Get(long deviceKey) => inner.Get(swap.Route(deviceKey));

            public void Save(long deviceKey, StoredDeviceKeys keys, IReadOnlyList<StoredSignedKey> ecPreKeys, IReadOnlyList<StoredSignedKey> kyberPreKeys)
            {
                lock (swap._byIdentity)
                {
                    swap._byIdentity[Convert.ToHexString(keys.IdentityKey)] = deviceKey;
                }
                inner.Save(deviceKey, keys, ecPreKeys, kyberPreKeys);
            }

            public StoredSignedKey? Take(long deviceKey, PreKeyKind kind) => inner.Take(swap.Route(deviceKey), kind);

            public (int Ec, int Kyber) Count(long deviceKey) => inner.Count(deviceKey);
        }
    }
}
