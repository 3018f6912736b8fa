using System.Collections.Concurrent;
using Parley.Client;
using Parley.Client.Encryption;

namespace Parley.EndToEnd.Tests;

public sealed class PayloadCipherTests
{
    /// <summary>A toy cipher keyed by the addressed device: enough to show each device gets its own payload.</summary>
    private sealed class DeviceKeyedCipher : IPayloadCipher
    {
        public ConcurrentQueue<(string User, uint Device)> Sealed { get; } = new();

        public ConcurrentQueue<(string User, uint Device)> Opened { get; } = new();

        public ValueTask<byte[]> EncryptAsync(string user, uint deviceId, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
        {
            Sealed.Enqueue((user, deviceId));
            return ValueTask.FromResult(Xor(plaintext.Span, (byte)(0x5A ^ deviceId)));
        }

        public ValueTask<byte[]> DecryptAsync(string senderUser, uint senderDevice, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            Opened.Enqueue((senderUser, senderDevice));
            return ValueTask.FromResult(Xor(payload.Span, (byte)(0x5A ^ ReceiverDevice)));
        }

        public uint ReceiverDevice { get; set; }

        private static byte[] Xor(ReadOnlySpan<byte> data, byte key)
        {
            var result = data.ToArray();
            for (var i = 0; i < result.Length; i++)
            {
                result[i] ^= key;
            }
            return result;
        }
    }

    [Fact]
    public async Task The_cipher_seals_once_per_addressed_device_and_opens_once_per_envelope()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var alicePhone = await server.LinkAsync(alice);
        var bob = await server.RegisterAsync("bob");
        var bobLaptop = await server.LinkAsync(bob);
        var profiles = new[] { alice, alicePhone, bob, bobLaptop }.Select(c => (c.ProfileDirectory, c.Credentials.DeviceId)).ToArray();
        foreach (var c in new[] { alice, alicePhone, bob, bobLaptop })
        {
            await c.DisposeAsync();
        }

        var senderCipher = new DeviceKeyedCipher();
        var senderOptions = Wait.Options();
        senderOptions.Cipher = senderCipher;
        await using var sender = ParleyClient.Open(profiles[0].Item1, senderOptions);
        var bobCipher = new DeviceKeyedCipher { ReceiverDevice = profiles[3].Item2 };
        var bobOptions = Wait.Options();
        bobOptions.Cipher = bobCipher;
        await using var laptop = ParleyClient.Open(profiles[3].Item1, bobOptions);
        var inbox = new Inbox(laptop);

        var id = await sender.SendTextAsync("bob", "only for the right device", Wait.Token());
        await laptop.SyncAsync(Wait.Token());

        // One payload per addressed device: bob's two, and alice's other device.
        Assert.Equal([("alice", 2u), ("bob", 1u), ("bob", 2u)], senderCipher.Sealed.Order());
        Assert.Equal([("alice", 1u)], bobCipher.Opened);
        Assert.Equal((id, "only for the right device"), (inbox.Messages.Single().Id, inbox.Messages.Single().Text));

        // A device that cannot open its payload (here: an end-to-end client given the toy ciphertext) shows nothing.
        await using var plainPhone = ParleyClient.Open(profiles[1].Item1, Wait.Options());
        var phoneInbox = new Inbox(plainPhone);
        await plainPhone.SyncAsync(Wait.Token());
        Assert.Empty(phoneInbox.Messages);
    }
}
