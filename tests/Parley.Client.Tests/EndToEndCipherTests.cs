using Google.Protobuf;
using Parley.Client.Encryption;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Protocol;
using WireBundle = Parley.Protocol.PreKeyBundle;

namespace Parley.Client.Tests;

/// <summary>The SDK's Signal layer on real SQLite stores: bundle checks, key uploads, sessions that survive a restart, verification.</summary>
public sealed class EndToEndCipherTests : IDisposable
{
    private readonly TempProfile _alice = new();
    private readonly TempProfile _bob = new();

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
    }

    /// <summary>What the server would hand out for a device that made <paramref name="upload"/>: its first keys of each kind.</summary>
    private static WireBundle BundleFrom(UploadPreKeys upload, uint deviceId = 1) => new()
    {
        User = "bob",
        DeviceId = deviceId,
        RegistrationId = upload.RegistrationId,
        IdentityKey = upload.IdentityKey,
        SignedPrekey = upload.SignedPrekey,
        OneTimePrekey = upload.OneTimePrekeys[0],
        KyberPrekey = upload.KyberPrekeys[0],
    };

    private static UploadPreKeys NewDevice(ClientStore store, IdentityKeyPair? identity = null)
    {
        PreKeyRefill.EnsureIdentity(store, identity);
        return PreKeyRefill.Build(store, null, DateTimeOffset.UtcNow);
    }

    /// <summary>A valid signature of <paramref name="publicKey"/>, made by an identity that is not the bundle's.</summary>
    private static ByteString ForeignSignature(ByteString publicKey) =>
        ByteString.CopyFrom(IdentityKeyPair.Generate().CalculateSignature(publicKey.Span));

    /// <summary>Gives both stores a device and starts alice's session with bob's first keys; returns alice's cipher.</summary>
    private static EndToEndCipher AliceWithSessionToBob(ClientStore aliceStore, ClientStore bobStore)
    {
        var upload = NewDevice(bobStore);
        NewDevice(aliceStore);
        var alice = new EndToEndCipher(aliceStore, TimeProvider.System);
        alice.StartSession("bob", BundleFrom(upload));
        return alice;
    }

    [Fact]
    public void A_first_upload_has_every_key_kind_signed_by_the_identity()
    {
        using var store = ClientStore.Open(_bob.Path);
        var upload = NewDevice(store);
        var identity = IdentityKey.Deserialize(upload.IdentityKey.Span);

        Assert.Equal(PreKeyRefill.EcBatch, upload.OneTimePrekeys.Count);
        Assert.Equal(PreKeyRefill.KyberBatch, upload.KyberPrekeys.Count);
        Assert.InRange(upload.RegistrationId, 1u, RegistrationId.MaxValue);
        Assert.True(identity.VerifySignature(upload.SignedPrekey.PublicKey.Span, upload.SignedPrekey.Signature.Span));
        Assert.True(identity.VerifySignature(upload.KyberLastResort.PublicKey.Span, upload.KyberLastResort.Signature.Span));
        Assert.All(upload.KyberPrekeys, k => Assert.True(identity.VerifySignature(k.PublicKey.Span, k.Signature.Span)));
        Assert.Equal(upload.OneTimePrekeys.Count, upload.OneTimePrekeys.Select(k => k.Id).Distinct().Count());
        Assert.Empty(upload.KyberPrekeys.Select(k => k.Id).Intersect([upload.KyberLastResort.Id]));
    }

    [Fact]
    public void A_bundle_whose_signed_prekey_is_signed_by_another_identity_is_refused()
    {
        using var store = ClientStore.Open(_bob.Path);
        var bundle = BundleFrom(NewDevice(store));
        bundle.SignedPrekey.Signature = ForeignSignature(bundle.SignedPrekey.PublicKey);

        Assert.Throws<InvalidSignatureException>(() => EndToEndCipher.Verify(bundle));
    }

    [Fact]
    public void A_bundle_whose_Kyber_prekey_is_signed_by_another_identity_is_refused_and_starts_no_session()
    {
        using var bobStore = ClientStore.Open(_bob.Path);
        var bundle = BundleFrom(NewDevice(bobStore));
        bundle.KyberPrekey.Signature = ForeignSignature(bundle.KyberPrekey.PublicKey);
        using var aliceStore = ClientStore.Open(_alice.Path);
        NewDevice(aliceStore);
        var alice = new EndToEndCipher(aliceStore, TimeProvider.System);

        Assert.Throws<InvalidSignatureException>(() => alice.StartSession("bob", bundle));
        Assert.False(alice.HasUsableSession("bob", 1));
        Assert.Null(aliceStore.PeerIdentity("bob"));
    }

    [Fact]
    public void A_bundle_with_malformed_keys_is_refused()
    {
        using var store = ClientStore.Open(_bob.Path);
        var bundle = BundleFrom(NewDevice(store));
        bundle.IdentityKey = ByteString.CopyFrom(new byte[] { 0x05, 1, 2, 3 });

        Assert.Throws<InvalidKeyException>(() => EndToEndCipher.Verify(bundle));
        Assert.Throws<InvalidKeyException>(() => EndToEndCipher.Verify(new WireBundle { User = "bob", DeviceId = 1 }));
    }

    [Fact]
    public void Sessions_keys_and_identities_survive_reopening_both_stores()
    {
        UploadPreKeys bobUpload;
        byte[] first;
        using (var bobStore = ClientStore.Open(_bob.Path))
        using (var aliceStore = ClientStore.Open(_alice.Path))
        {
            bobUpload = NewDevice(bobStore);
            NewDevice(aliceStore);
            var alice = new EndToEndCipher(aliceStore, TimeProvider.System);
            alice.StartSession("bob", BundleFrom(bobUpload));
            first = alice.Seal("bob", 1, "hello"u8, resend: false);
            Assert.Equal(3, first[0]); // a PreKey message
            Assert.Equal(4u, alice.SessionVersion("bob", 1)); // PQXDH: the bundle had a Kyber prekey
        }

        using (var bobStore = ClientStore.Open(_bob.Path))
        using (var aliceStore = ClientStore.Open(_alice.Path))
        {
            var bob = new EndToEndCipher(bobStore, TimeProvider.System);
            Assert.Equal("hello", bob.Open("alice", 1, first, (plain, original) => System.Text.Encoding.UTF8.GetString(plain)));
            Assert.False(bobStore.ContainsPreKey(bobUpload.OneTimePrekeys[0].Id)); // the one-time prekey is used up
            Assert.False(bobStore.ContainsKyberPreKey(bobUpload.KyberPrekeys[0].Id));
            Assert.True(bobStore.ContainsKyberPreKey(bobUpload.KyberLastResort.Id)); // the last-resort key stays
            var reply = bob.Seal("alice", 1, "hi back"u8, resend: false);
            Assert.Equal(2, reply[0]); // a plain ratchet message
            var alice = new EndToEndCipher(aliceStore, TimeProvider.System);
            Assert.Equal("hi back", alice.Open("bob", 1, reply, (plain, _) => System.Text.Encoding.UTF8.GetString(plain)));
            Assert.Equal(aliceStore.GetIdentityKeyPair().IdentityKey, bobStore.GetIdentity(new ProtocolAddress("alice", 1)));
        }
    }

    [Fact]
    public void A_failed_commit_leaves_the_session_where_it_was_so_the_redelivery_decrypts()
    {
        using var bobStore = ClientStore.Open(_bob.Path);
        using var aliceStore = ClientStore.Open(_alice.Path);
        var alice = AliceWithSessionToBob(aliceStore, bobStore);
        var payload = alice.Seal("bob", 1, "kept"u8, resend: false);
        var bob = new EndToEndCipher(bobStore, TimeProvider.System);

        Assert.Throws<IOException>(() => bob.Open<int>("alice", 1, payload, (_, _) => throw new IOException("disk full")));
        Assert.False(bob.HasUsableSession("alice", 1));
        Assert.Equal("kept", bob.Open("alice", 1, payload, (plain, _) => System.Text.Encoding.UTF8.GetString(plain)));
        Assert.Throws<DuplicateMessageException>(() => bob.Open("alice", 1, payload, (plain, _) => plain));
    }

    [Fact]
    public void A_resend_carries_the_original_id_inside_the_ciphertext()
    {
        using var bobStore = ClientStore.Open(_bob.Path);
        using var aliceStore = ClientStore.Open(_alice.Path);
        var alice = AliceWithSessionToBob(aliceStore, bobStore);
        var original = MessageId.New();
        var payload = alice.Seal("bob", 1, SignalPayload.ResendPlaintext(original, "again"u8), resend: true);

        Assert.Equal(0x80 | 3, payload[0]);
        var bob = new EndToEndCipher(bobStore, TimeProvider.System);
        var (content, id) = bob.Open("alice", 1, payload, (plain, originalId) => (plain, originalId));
        Assert.Equal(original, id);
        Assert.Equal("again"u8.ToArray(), content);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 3 })]
    [InlineData(new byte[] { 7, 1, 2, 3 })]
    [InlineData(new byte[] { 8, 1, 2, 3 })]
    [InlineData(new byte[] { 2, 0x33, 0xFF, 0xFF })]
    public void Payloads_that_are_not_messages_fail_with_a_typed_error(byte[] payload)
    {
        Assert.ThrowsAny<CryptoException>(() => SignalPayload.Decode(payload));
    }

    [Fact]
    public void A_verified_peer_with_a_new_account_key_is_refused_for_sending_until_accepted()
    {
        using var aliceStore = ClientStore.Open(_alice.Path);
        using var bobStore = ClientStore.Open(_bob.Path);
        var alice = AliceWithSessionToBob(aliceStore, bobStore);
        var bobAccount = IdentityKeyPair.Generate();
        var bobDevice = bobStore.GetIdentityKeyPair().IdentityKey;
        Assert.Equal(TrustOutcome.Accepted, aliceStore.TrustList("bob", SignedLists.Verified(SignedLists.Sign(bobAccount, "bob", 1, (1, bobDevice)), "bob"), isPeer: true));
        Assert.True(aliceStore.MarkVerified("bob"));
        using var newBob = new TempProfile();
        using var newBobStore = ClientStore.Open(newBob.Path);
        var newDevice = NewDevice(newBobStore);

        // bob's account key changes (a re-registration): the new list names the new device.
        var newList = SignedLists.Sign(IdentityKeyPair.Generate(), "bob", 1, (1, bobDevice), (2, IdentityKey.Deserialize(newDevice.IdentityKey.Span)));
        Assert.Equal(TrustOutcome.Accepted, aliceStore.TrustList("bob", SignedLists.Verified(newList, "bob"), isPeer: true));
        Assert.Throws<UntrustedIdentityException>(() => alice.StartSession("bob", BundleFrom(newDevice, deviceId: 2)));
        Assert.Equal(["bob"], aliceStore.TakeIdentityChanges());
        Assert.True(aliceStore.IsBlockedByVerification("bob"));
        Assert.True(aliceStore.IdentityChangedUnacknowledged("bob"));

        Assert.True(aliceStore.AcceptIdentity("bob"));
        alice.StartSession("bob", BundleFrom(PreKeyRefill.Build(newBobStore, null, DateTimeOffset.UtcNow), deviceId: 2));
        Assert.True(alice.HasUsableSession("bob", 2));
        Assert.Empty(aliceStore.TakeIdentityChanges());
        Assert.False(aliceStore.IsBlockedByVerification("bob"));
    }

    [Fact]
    public void Rotation_makes_a_new_signed_prekey_and_keeps_the_previous_one()
    {
        using var store = ClientStore.Open(_bob.Path);
        var first = NewDevice(store);
        var rotated = PreKeyRefill.Build(store, new PreKeysLow { Remaining = 80, KyberRemaining = 30, RotateSignedPrekey = true }, DateTimeOffset.UtcNow);

        Assert.NotEqual(first.SignedPrekey.Id, rotated.SignedPrekey.Id);
        Assert.NotNull(store.LoadSignedPreKey(first.SignedPrekey.Id));
        Assert.NotNull(store.LoadSignedPreKey(rotated.SignedPrekey.Id));
        Assert.NotNull(rotated.KyberLastResort);
        Assert.Empty(rotated.OneTimePrekeys); // not low: nothing else
        Assert.Empty(rotated.KyberPrekeys);

        var refill = PreKeyRefill.Build(store, new PreKeysLow { Remaining = 4, KyberRemaining = 30 }, DateTimeOffset.UtcNow);
        Assert.Null(refill.SignedPrekey); // no rotation asked: the server's rotation clock is left alone
        Assert.Equal(PreKeyRefill.EcBatch, refill.OneTimePrekeys.Count);
        Assert.Empty(refill.KyberPrekeys);
        Assert.True(refill.OneTimePrekeys.Min(k => k.Id) > first.OneTimePrekeys.Max(k => k.Id));
    }
}
