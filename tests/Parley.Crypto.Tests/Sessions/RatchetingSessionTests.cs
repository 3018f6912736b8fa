using Parley.Crypto.Keys;
using Parley.Crypto.Sessions;

namespace Parley.Crypto.Tests.Sessions;

public class RatchetingSessionTests
{
    // Vectors from libsignal's "ratcheting session as Alice/Bob" tests.
    private static readonly byte[] BobEphemeralPublic = Convert.FromHexString("052cb49776b8770205745a3a6e24f579cdb4ba7a89041005928ebbadc9c05ad458");
    private static readonly byte[] BobEphemeralPrivate = Convert.FromHexString("a1cab48f7c893fafa9880a28c3b4999d28d6329562d27a4ea4e22e9ff1bdd65a");
    private static readonly byte[] BobIdentityPublic = Convert.FromHexString("05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626");
    private static readonly byte[] BobIdentityPrivate = Convert.FromHexString("4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e");
    private static readonly byte[] AliceBasePublic = Convert.FromHexString("05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950");
    private static readonly byte[] AliceBasePrivate = Convert.FromHexString("11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449");
    private static readonly byte[] AliceIdentityPublic = Convert.FromHexString("05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a");
    private static readonly byte[] AliceIdentityPrivate = Convert.FromHexString("9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58");
    private static readonly byte[] BobSignedPreKeyPublic = Convert.FromHexString("05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67");
    private static readonly byte[] BobSignedPreKeyPrivate = Convert.FromHexString("583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253");
    private static readonly byte[] ExpectedBobSenderChain = Convert.FromHexString("9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d");
    private static readonly byte[] ExpectedAliceReceiverChain = Convert.FromHexString("ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a");

    [Fact]
    public void Ratcheting_session_as_Bob_matches_the_libsignal_vector()
    {
        var bobIdentity = new IdentityKeyPair(IdentityKey.Deserialize(BobIdentityPublic), EcPrivateKey.Deserialize(BobIdentityPrivate));
        var parameters = new RecipientParameters(
            bobIdentity,
            EcKeyPair.FromSerialized(BobSignedPreKeyPublic, BobSignedPreKeyPrivate),
            null,
            EcKeyPair.FromSerialized(BobEphemeralPublic, BobEphemeralPrivate),
            null,
            IdentityKey.Deserialize(AliceIdentityPublic),
            EcPublicKey.Deserialize(AliceBasePublic),
            null);

        var state = RatchetingSession.InitializeAsRecipient(parameters);

        Assert.Equal(BobIdentityPublic, state.LocalIdentity.Serialize());
        Assert.Equal(AliceIdentityPublic, state.RemoteIdentity!.Serialize());
        Assert.Equal(ExpectedBobSenderChain, state.Sender!.ChainKey.Key);
        Assert.Equal(3u, state.Version);
    }

    [Fact]
    public void Ratcheting_session_as_Alice_matches_the_libsignal_vector()
    {
        var aliceIdentity = new IdentityKeyPair(IdentityKey.Deserialize(AliceIdentityPublic), EcPrivateKey.Deserialize(AliceIdentityPrivate));
        var bobEphemeral = EcPublicKey.Deserialize(BobEphemeralPublic);
        var parameters = new InitiatorParameters(
            aliceIdentity,
            EcKeyPair.FromSerialized(AliceBasePublic, AliceBasePrivate),
            IdentityKey.Deserialize(BobIdentityPublic),
            EcPublicKey.Deserialize(BobSignedPreKeyPublic),
            null,
            bobEphemeral,
            null);

        var (state, kyberCiphertext) = RatchetingSession.InitializeAsInitiator(parameters);

        Assert.Null(kyberCiphertext);
        Assert.Equal(AliceIdentityPublic, state.LocalIdentity.Serialize());
        Assert.Equal(BobIdentityPublic, state.RemoteIdentity!.Serialize());
        Assert.Equal(ExpectedAliceReceiverChain, state.FindReceiverChain(bobEphemeral)!.ChainKey.Key);
        Assert.Equal(3u, state.Version);
    }

    [Theory]
    [InlineData(KemKeyType.Kyber1024)]
    [InlineData(KemKeyType.MlKem1024)]
    public void Alice_and_Bob_agree_on_chain_keys_with_a_kem_prekey(KemKeyType kemType)
    {
        var aliceIdentity = IdentityKeyPair.Generate();
        var aliceBase = EcKeyPair.Generate();
        var bobIdentity = IdentityKeyPair.Generate();
        var bobSignedPreKey = EcKeyPair.Generate();
        var bobEphemeral = EcKeyPair.Generate();
        var bobOneTime = EcKeyPair.Generate();
        var bobKyber = KemKeyPair.Generate(kemType);

        var (alice, ciphertext) = RatchetingSession.InitializeAsInitiator(new InitiatorParameters(
            aliceIdentity, aliceBase, bobIdentity.IdentityKey, bobSignedPreKey.PublicKey, bobOneTime.PublicKey, bobEphemeral.PublicKey, bobKyber.PublicKey));
        var bob = RatchetingSession.InitializeAsRecipient(new RecipientParameters(
            bobIdentity, bobSignedPreKey, bobOneTime, bobEphemeral, bobKyber, aliceIdentity.IdentityKey, aliceBase.PublicKey, ciphertext));

        Assert.Equal(4u, alice.Version);
        Assert.Equal(4u, bob.Version);
        Assert.Equal((byte)kemType, ciphertext![0]);
        Assert.Equal(bob.Sender!.ChainKey.Key, alice.FindReceiverChain(bobEphemeral.PublicKey)!.ChainKey.Key);
    }

    [Fact]
    public void A_different_kem_secret_gives_different_chain_keys()
    {
        var aliceIdentity = IdentityKeyPair.Generate();
        var aliceBase = EcKeyPair.Generate();
        var bobIdentity = IdentityKeyPair.Generate();
        var bobSignedPreKey = EcKeyPair.Generate();
        var bobKyber = KemKeyPair.Generate();

        var (alice, _) = RatchetingSession.InitializeAsInitiator(new InitiatorParameters(
            aliceIdentity, aliceBase, bobIdentity.IdentityKey, bobSignedPreKey.PublicKey, null, bobSignedPreKey.PublicKey, bobKyber.PublicKey));
        var otherCiphertext = bobKyber.PublicKey.Encapsulate().Ciphertext;
        var bob = RatchetingSession.InitializeAsRecipient(new RecipientParameters(
            bobIdentity, bobSignedPreKey, null, bobSignedPreKey, bobKyber, aliceIdentity.IdentityKey, aliceBase.PublicKey, otherCiphertext));

        Assert.NotEqual(bob.Sender!.ChainKey.Key, alice.FindReceiverChain(bobSignedPreKey.PublicKey)!.ChainKey.Key);
    }
}
