using System.Text.Json;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Tests.Sessions;

/// <summary>
/// Fixed output of libsignal 0.72.1 (Vectors/make-libsignal-vectors.js): libsignal as Alice, every key of
/// Bob's written out. Pins wire and storage compatibility without running libsignal.
/// </summary>
public class LibsignalVectorTests
{
    private static readonly JsonElement Vectors = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Sessions", "Vectors", "libsignal-sessions.json"))).RootElement;

    private static byte[] B64(JsonElement e, string name) => Convert.FromBase64String(e.GetProperty(name).GetString()!);

    private static InMemoryProtocolStore BobStore(JsonElement bob)
    {
        var store = new InMemoryProtocolStore(IdentityKeyPair.Deserialize(B64(bob, "identityKeyPair")), bob.GetProperty("registrationId").GetUInt32());
        var signed = SignedPreKeyRecord.Deserialize(B64(bob, "signedPreKey"));
        store.StoreSignedPreKey(signed.Id, signed);
        var preKey = PreKeyRecord.Deserialize(B64(bob, "preKey"));
        store.StorePreKey(preKey.Id, preKey);
        if (bob.GetProperty("kyberPreKey").ValueKind == JsonValueKind.String)
        {
            var kyber = KyberPreKeyRecord.Deserialize(B64(bob, "kyberPreKey"));
            store.StoreKyberPreKey(kyber.Id, kyber);
        }

        return store;
    }

    [Theory]
    [InlineData("x3dh", 3)]
    [InlineData("pqxdh", 4)]
    public void PreKey_messages_from_libsignal_decrypt(string mode, int version)
    {
        var vector = Vectors.GetProperty(mode);
        var bob = BobStore(vector.GetProperty("bob"));
        var cipher = new SessionCipher(bob, new ProtocolAddress("alice", 1));

        foreach (var message in vector.GetProperty("messages").EnumerateArray())
        {
            Assert.Equal((int)CiphertextMessageType.PreKey, message.GetProperty("type").GetInt32());
            var parsed = PreKeySignalMessage.Deserialize(B64(message, "wire"));
            Assert.Equal(version, parsed.MessageVersion);
            Assert.Equal(message.GetProperty("plaintext").GetString(), System.Text.Encoding.UTF8.GetString(cipher.Decrypt(parsed)));
        }

        Assert.Equal((uint)version, cipher.GetSessionVersion());
        Assert.Equal(4321u, cipher.GetRemoteRegistrationId());
        Assert.False(bob.ContainsPreKey(5));
    }

    [Theory]
    [InlineData("x3dh")]
    [InlineData("pqxdh")]
    public void Libsignal_storage_records_read_and_write_back_byte_for_byte(string mode)
    {
        var vector = Vectors.GetProperty(mode);
        var bob = vector.GetProperty("bob");
        var alice = vector.GetProperty("alice");

        Assert.Equal(B64(bob, "identityKeyPair"), IdentityKeyPair.Deserialize(B64(bob, "identityKeyPair")).Serialize());
        Assert.Equal(B64(bob, "signedPreKey"), SignedPreKeyRecord.Deserialize(B64(bob, "signedPreKey")).Serialize());
        Assert.Equal(B64(bob, "preKey"), PreKeyRecord.Deserialize(B64(bob, "preKey")).Serialize());
        if (mode == "pqxdh")
        {
            Assert.Equal(B64(bob, "kyberPreKey"), KyberPreKeyRecord.Deserialize(B64(bob, "kyberPreKey")).Serialize());
        }

        Assert.Equal(B64(alice, "sessionWithBob"), SessionRecord.Deserialize(B64(alice, "sessionWithBob")).Serialize());
    }

    [Theory]
    [InlineData("x3dh")]
    [InlineData("pqxdh")]
    public void A_session_stored_by_libsignal_carries_on_in_Parley(string mode)
    {
        var vector = Vectors.GetProperty(mode);
        var aliceAddress = new ProtocolAddress("alice", 1);
        var bobAddress = new ProtocolAddress("bob", 1);
        var bobStore = BobStore(vector.GetProperty("bob"));
        var bob = new SessionCipher(bobStore, aliceAddress);
        foreach (var message in vector.GetProperty("messages").EnumerateArray())
        {
            bob.Decrypt(PreKeySignalMessage.Deserialize(B64(message, "wire")));
        }

        var alice = vector.GetProperty("alice");
        var aliceStore = new InMemoryProtocolStore(IdentityKeyPair.Deserialize(B64(alice, "identityKeyPair")), alice.GetProperty("registrationId").GetUInt32());
        aliceStore.StoreSession(bobAddress, SessionRecord.Deserialize(B64(alice, "sessionWithBob")));
        var aliceCipher = new SessionCipher(aliceStore, bobAddress);

        // Alice continues the libsignal-made session: a third PreKey message, then Bob's reply ends that phase.
        Assert.Equal("third", System.Text.Encoding.UTF8.GetString(bob.Decrypt((PreKeySignalMessage)aliceCipher.Encrypt("third"u8))));
        Assert.Equal("reply", System.Text.Encoding.UTF8.GetString(aliceCipher.Decrypt((SignalMessage)bob.Encrypt("reply"u8))));
        Assert.Equal("fourth", System.Text.Encoding.UTF8.GetString(bob.Decrypt((SignalMessage)aliceCipher.Encrypt("fourth"u8))));
    }
}
