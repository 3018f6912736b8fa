using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;

namespace Parley.Crypto.Tests.Sessions;

public class SessionSetupTests
{
    [Fact]
    public void X3dh_session_without_kyber_speaks_version_3_and_consumes_the_one_time_prekey()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle(kem: null);
        alice.StartSessionWith(bob, bundle);

        var first = alice.Encrypt(bob, "hi");
        Assert.Equal(CiphertextMessageType.PreKey, first.Type);
        Assert.Equal(0x34, first.Serialize()[0]);
        Assert.True(bob.Store.ContainsPreKey(bundle.PreKeyId!.Value));

        Assert.Equal("hi", bob.Decrypt(alice, first));
        Assert.False(bob.Store.ContainsPreKey(bundle.PreKeyId!.Value));
        Assert.Equal(3u, bob.CipherFor(alice).GetSessionVersion());
        Assert.Equal(alice.RegistrationId, bob.CipherFor(alice).GetRemoteRegistrationId());
        Assert.Equal(bob.RegistrationId, alice.CipherFor(bob).GetRemoteRegistrationId());

        var reply = bob.Encrypt(alice, "hey");
        Assert.Equal(CiphertextMessageType.Whisper, reply.Type);
        Assert.Equal("hey", alice.Decrypt(bob, reply));

        // Once Bob has answered, Alice stops sending PreKey messages.
        Assert.Equal(CiphertextMessageType.Whisper, alice.Encrypt(bob, "again").Type);
    }

    [Theory]
    [InlineData(KemKeyType.Kyber1024)]
    [InlineData(KemKeyType.MlKem1024)]
    public void Pqxdh_session_speaks_version_4_and_reports_the_kyber_prekey_used(KemKeyType kem)
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle(kem: kem);
        alice.StartSessionWith(bob, bundle);

        var first = alice.Encrypt(bob, "post-quantum hello");
        var parsed = PreKeySignalMessage.Deserialize(first.Serialize());
        Assert.Equal(0x44, first.Serialize()[0]);
        Assert.Equal(4, parsed.MessageVersion);
        Assert.Equal(bundle.KyberPreKeyId, parsed.KyberPreKeyId);
        Assert.Equal((byte)kem, parsed.KyberCiphertext![0]);

        Assert.Equal("post-quantum hello", bob.Decrypt(alice, first));
        Assert.Contains(bundle.KyberPreKeyId!.Value, bob.Store.UsedKyberPreKeyIds);
        Assert.Equal(4u, bob.CipherFor(alice).GetSessionVersion());
        Assert.Equal("ok", alice.Decrypt(bob, bob.Encrypt(alice, "ok")));
    }

    [Fact]
    public void Session_without_a_one_time_prekey_still_works()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(oneTimePreKey: false));

        var first = alice.Encrypt(bob, "no one-time key");
        Assert.Null(PreKeySignalMessage.Deserialize(first.Serialize()).PreKeyId);
        Assert.Equal("no one-time key", bob.Decrypt(alice, first));
    }

    [Fact]
    public void Every_message_before_the_first_reply_is_a_prekey_message_and_all_decrypt()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());

        var messages = Enumerable.Range(0, 5).Select(i => alice.Encrypt(bob, $"m{i}")).ToList();
        Assert.All(messages, m => Assert.Equal(CiphertextMessageType.PreKey, m.Type));

        // Delivered out of order: the later ones set the session up just as well.
        Assert.Equal("m3", bob.Decrypt(alice, messages[3]));
        Assert.Equal("m0", bob.Decrypt(alice, messages[0]));
        Assert.Equal("m4", bob.Decrypt(alice, messages[4]));
        Assert.Equal("m1", bob.Decrypt(alice, messages[1]));
        Assert.Equal("m2", bob.Decrypt(alice, messages[2]));
    }

    [Fact]
    public void Bundle_with_a_forged_signed_prekey_signature_is_refused_and_no_session_is_stored()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var good = bob.CreateBundle();
        var forged = new PreKeyBundle(
            good.RegistrationId, good.DeviceId, good.PreKeyId, good.PreKeyPublic,
            good.SignedPreKeyId, EcKeyPair.Generate().PublicKey, good.SignedPreKeySignature, good.IdentityKey,
            good.KyberPreKeyId, good.KyberPreKeyPublic, good.KyberPreKeySignature.ToArray());

        Assert.Throws<InvalidSignatureException>(() => alice.StartSessionWith(bob, forged));
        Assert.False(alice.Store.ContainsSession(bob.Address));
        Assert.Null(alice.Store.GetIdentity(bob.Address));
    }

    [Fact]
    public void Bundle_with_a_forged_kyber_prekey_signature_is_refused()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var good = bob.CreateBundle();
        var badSignature = good.KyberPreKeySignature.ToArray();
        badSignature[5] ^= 0x40;
        var forged = new PreKeyBundle(
            good.RegistrationId, good.DeviceId, good.PreKeyId, good.PreKeyPublic,
            good.SignedPreKeyId, good.SignedPreKeyPublic, good.SignedPreKeySignature, good.IdentityKey,
            good.KyberPreKeyId, good.KyberPreKeyPublic, badSignature);

        Assert.Throws<InvalidSignatureException>(() => alice.StartSessionWith(bob, forged));
        Assert.False(alice.Store.ContainsSession(bob.Address));
    }

    [Fact]
    public void Bundle_from_an_identity_other_than_the_trusted_one_is_refused()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.Store.SaveIdentity(bob.Address, IdentityKeyPair.Generate().IdentityKey);

        var ex = Assert.Throws<UntrustedIdentityException>(() => alice.StartSessionWith(bob, bob.CreateBundle()));
        Assert.Equal(bob.Address, ex.Address);
        Assert.False(alice.Store.ContainsSession(bob.Address));
    }

    [Fact]
    public void PreKey_message_from_an_untrusted_identity_is_refused_and_keeps_the_prekey()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle();
        alice.StartSessionWith(bob, bundle);
        bob.Store.SaveIdentity(alice.Address, IdentityKeyPair.Generate().IdentityKey);

        var message = alice.Encrypt(bob, "hi");

        Assert.Throws<UntrustedIdentityException>(() => bob.Decrypt(alice, message));
        Assert.True(bob.Store.ContainsPreKey(bundle.PreKeyId!.Value));
        Assert.False(bob.Store.ContainsSession(alice.Address));
    }

    [Fact]
    public void PreKey_message_naming_an_unknown_signed_prekey_is_an_invalid_key()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        var bundle = bob.CreateBundle();
        alice.StartSessionWith(bob, bundle);
        bob.Store.RemoveSignedPreKey(bundle.SignedPreKeyId);

        Assert.Throws<InvalidKeyException>(() => bob.Decrypt(alice, alice.Encrypt(bob, "hi")));
    }

    [Fact]
    public void Encrypting_or_decrypting_without_a_session_is_a_no_session_error()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var stray = SignalMessage.Deserialize(alice.Encrypt(bob, "stray").Serialize());
        var carol = new TestDevice("carol");

        Assert.Throws<NoSessionException>(() => carol.Encrypt(bob, "hi"));
        Assert.Throws<NoSessionException>(() => carol.CipherFor(alice).Decrypt(stray));
    }

    [Fact]
    public void Unanswered_session_goes_stale_after_thirty_days()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var alice = new TestDevice("alice", time: clock);
        var bob = new TestDevice("bob", time: clock);
        alice.StartSessionWith(bob, bob.CreateBundle());
        alice.Encrypt(bob, "first");

        clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(CiphertextMessageType.PreKey, alice.Encrypt(bob, "still fine").Type);
        Assert.True(alice.Store.LoadSession(bob.Address)!.HasUsableSenderChain(clock.GetUtcNow()));

        clock.Advance(TimeSpan.FromDays(2));
        Assert.False(alice.Store.LoadSession(bob.Address)!.HasUsableSenderChain(clock.GetUtcNow()));
        Assert.Throws<NoSessionException>(() => alice.Encrypt(bob, "too late"));
    }

    [Fact]
    public void Simultaneous_initiation_lets_both_sides_read_everything()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        bob.StartSessionWith(alice, alice.CreateBundle());

        var fromAlice = alice.Encrypt(bob, "a1");
        var fromBob = bob.Encrypt(alice, "b1");
        Assert.Equal("a1", bob.Decrypt(alice, fromAlice));
        Assert.Equal("b1", alice.Decrypt(bob, fromBob));

        // Each side now holds both sessions (one archived); later messages still decrypt both ways.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal($"a{i + 2}", bob.Decrypt(alice, alice.Encrypt(bob, $"a{i + 2}")));
            Assert.Equal($"b{i + 2}", alice.Decrypt(bob, bob.Encrypt(alice, $"b{i + 2}")));
        }
    }

    [Fact]
    public void Messages_of_a_replaced_session_still_decrypt_from_the_archive()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var inFlight = alice.Encrypt(bob, "sent on the old session");

        // Alice re-keys with a fresh bundle; Bob gets the new PreKey message first.
        alice.StartSessionWith(bob, bob.CreateBundle());
        Assert.Equal("new session", bob.Decrypt(alice, alice.Encrypt(bob, "new session")));

        Assert.Equal("sent on the old session", bob.Decrypt(alice, inFlight));
        Assert.True(bob.Store.LoadSession(alice.Address)!.PreviousStateCount >= 1);
    }
}
