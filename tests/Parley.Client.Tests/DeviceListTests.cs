using Google.Protobuf;
using Parley.Client.Encryption;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>Signed device lists on a real store: what verifies, what is trusted, and what a trusted list lets through.</summary>
public sealed class DeviceListTests : IDisposable
{
    private readonly TempProfile _profile = new();

    public void Dispose() => _profile.Dispose();

    private static IdentityKey NewKey() => IdentityKeyPair.Generate().IdentityKey;

    [Fact]
    public void A_list_signed_by_another_key_than_the_one_it_names_does_not_verify()
    {
        var account = IdentityKeyPair.Generate();
        var forged = SignedLists.Sign(IdentityKeyPair.Generate(), "bob", 2, (1, NewKey()));
        var list = AccountDeviceList.Parser.ParseFrom(forged.List);
        list.AccountKey = ByteString.CopyFrom(account.IdentityKey.Serialize()); // claims bob's account key, signed by the server's
        forged.List = list.ToByteString();

        Assert.Null(ParleyClient.VerifiedList("bob", forged));
        Assert.NotNull(ParleyClient.VerifiedList("bob", SignedLists.Sign(account, "bob", 2, (1, NewKey()))));
    }

    [Fact]
    public void A_list_made_for_another_user_or_tampered_with_does_not_verify()
    {
        var signed = SignedLists.Sign(IdentityKeyPair.Generate(), "carol", 1, (1, NewKey()));
        Assert.Null(ParleyClient.VerifiedList("bob", signed));

        var bytes = signed.List.ToByteArray();
        bytes[^1] ^= 1;
        Assert.Null(ParleyClient.VerifiedList("carol", new SignedDeviceList { List = ByteString.CopyFrom(bytes), Signature = signed.Signature }));
        Assert.Null(ParleyClient.VerifiedList("carol", new SignedDeviceList { List = ByteString.CopyFrom([1, 2, 3]), Signature = signed.Signature }));
    }

    [Fact]
    public void An_older_version_under_the_same_account_key_is_refused_and_the_newer_list_stays()
    {
        using var store = ClientStore.Open(_profile.Path);
        var account = IdentityKeyPair.Generate();
        var one = NewKey();
        var two = NewKey();
        Assert.Equal(TrustOutcome.Accepted, store.TrustList("bob", SignedLists.Verified(SignedLists.Sign(account, "bob", 1, (1, one)), "bob"), isPeer: true));
        Assert.Equal(TrustOutcome.Accepted, store.TrustList("bob", SignedLists.Verified(SignedLists.Sign(account, "bob", 3, (1, one), (2, two)), "bob"), isPeer: true));

        Assert.Equal(TrustOutcome.RolledBack, store.TrustList("bob", SignedLists.Verified(SignedLists.Sign(account, "bob", 2, (1, one)), "bob"), isPeer: true));
        Assert.Equal(TrustOutcome.Unchanged, store.TrustList("bob", SignedLists.Verified(SignedLists.Sign(account, "bob", 3, (1, one), (2, two)), "bob"), isPeer: true));
        Assert.Equal(3ul, store.TrustedList("bob")!.Version);
        Assert.Equal([1u, 2u], store.TrustedList("bob")!.Devices.Select(d => d.DeviceId));
        Assert.Empty(store.TakeIdentityChanges()); // new versions under the same account key are no identity change
        Assert.Equal(account.IdentityKey, store.PeerIdentity("bob"));
    }

    [Fact]
    public void A_device_the_trusted_list_does_not_name_gets_no_session()
    {
        using var bobStore = ClientStore.Open(_profile.Path);
        using var aliceProfile = new TempProfile();
        using var aliceStore = ClientStore.Open(aliceProfile.Path);
        PreKeyRefill.EnsureIdentity(aliceStore, null);
        PreKeyRefill.EnsureIdentity(bobStore, null);
        var upload = PreKeyRefill.Build(bobStore, null, DateTimeOffset.UtcNow);
        var bundle = new Parley.Protocol.PreKeyBundle
        {
            User = "bob", DeviceId = 9, RegistrationId = upload.RegistrationId, IdentityKey = upload.IdentityKey,
            SignedPrekey = upload.SignedPrekey, OneTimePrekey = upload.OneTimePrekeys[0], KyberPrekey = upload.KyberPrekeys[0],
        };
        aliceStore.TrustList("bob", SignedLists.Verified(SignedLists.Sign(IdentityKeyPair.Generate(), "bob", 1, (1, NewKey())), "bob"), isPeer: true);
        var alice = new EndToEndCipher(aliceStore, TimeProvider.System);

        Assert.Throws<UntrustedIdentityException>(() => alice.StartSession("bob", bundle)); // device 9 is not listed
        bundle.DeviceId = 1;
        Assert.Throws<UntrustedIdentityException>(() => alice.StartSession("bob", bundle)); // device 1 is listed with another key
        Assert.False(alice.HasUsableSession("bob", 1));
        Assert.False(alice.HasUsableSession("bob", 9));
    }

    [Fact]
    public void A_profile_from_before_account_keys_takes_its_shared_identity_as_the_account_key()
    {
        using var primary = ClientStore.Open(_profile.Path);
        PreKeyRefill.EnsureIdentity(primary, null);
        var shared = primary.GetIdentityKeyPair();
        using var linkedProfile = new TempProfile();
        using var linked = ClientStore.Open(linkedProfile.Path);
        PreKeyRefill.EnsureIdentity(linked, shared); // how a linked device of that version adopted the account's identity

        primary.MigrateAccountKeys(1);
        linked.MigrateAccountKeys(2);
        primary.MigrateAccountKeys(1); // once only

        Assert.Equal(shared.IdentityKey, primary.AccountPublicKey());
        Assert.Equal(shared.Serialize(), primary.AccountKeyPair()!.Serialize());
        Assert.Equal(shared.IdentityKey, linked.AccountPublicKey());
        Assert.Null(linked.AccountKeyPair());
    }
}
