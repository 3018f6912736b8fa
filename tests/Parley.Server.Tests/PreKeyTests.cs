using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Server.Tests;

public sealed class PreKeyTests
{
    private static SignedPreKey Signed(EcKeyPair identity, uint id, byte[] publicKey) =>
        new() { Id = id, PublicKey = ByteString.CopyFrom(publicKey), Signature = ByteString.CopyFrom(identity.CalculateSignature(publicKey)) };

    private static byte[] KyberKey() => [0x08, .. RandomNumberGenerator.GetBytes(1568)];

    private static UploadPreKeys Upload(EcKeyPair identity, int oneTime, int kyber, uint firstId = 1)
    {
        var upload = new UploadPreKeys
        {
            IdentityKey = ByteString.CopyFrom(identity.PublicKey.Serialize()),
            RegistrationId = 1234,
            SignedPrekey = Signed(identity, 1, EcKeyPair.Generate().PublicKey.Serialize()),
            KyberLastResort = Signed(identity, 1000, KyberKey()),
        };
        for (uint i = 0; i < oneTime; i++)
        {
            upload.OneTimePrekeys.Add(new PreKey { Id = firstId + i, PublicKey = ByteString.CopyFrom(EcKeyPair.Generate().PublicKey.Serialize()) });
        }
        for (uint i = 0; i < kyber; i++)
        {
            upload.KyberPrekeys.Add(Signed(identity, 2000 + firstId + i, KyberKey()));
        }
        return upload;
    }

    [Fact]
    public async Task Each_fetch_returns_a_verified_bundle_per_device_and_consumes_one_time_prekeys_until_low()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.PreKeysLowThreshold = 2);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var bobIdentity = EcKeyPair.Generate();
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);
        var firstLow = await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PrekeysLow);
        Assert.Equal(0u, firstLow.PrekeysLow.Remaining);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(bobIdentity, oneTime: 3, kyber: 1) })).BodyCase);

        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var ids = new List<uint>();
        for (int i = 0; i < 3; i++)
        {
            var bundle = Assert.Single((await a.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } })).PrekeyBundles.Bundles);
            Assert.Equal(bobIdentity.PublicKey.Serialize(), bundle.IdentityKey.ToByteArray());
            Assert.Equal(1234u, bundle.RegistrationId);
            var identity = EcPublicKey.Deserialize(bundle.IdentityKey.Span);
            Assert.True(identity.VerifySignature(bundle.SignedPrekey.PublicKey.Span, bundle.SignedPrekey.Signature.Span));
            Assert.True(identity.VerifySignature(bundle.KyberPrekey.PublicKey.Span, bundle.KyberPrekey.Signature.Span));
            ids.Add(bundle.OneTimePrekey.Id);
            // The one-time ML-KEM prekey goes first, then the last-resort one stays.
            Assert.Equal(i == 0 ? 2001u : 1000u, bundle.KyberPrekey.Id);
        }
        Assert.Equal([1u, 2u, 3u], ids);
        var exhausted = Assert.Single((await a.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } })).PrekeyBundles.Bundles);
        Assert.Null(exhausted.OneTimePrekey);
        Assert.NotNull(exhausted.SignedPrekey);

        var low = await b.ReceiveAsync(f => f.BodyCase == ServerFrame.BodyOneofCase.PrekeysLow && f.PrekeysLow.Remaining < 2);
        Assert.False(low.PrekeysLow.RotateSignedPrekey);
    }

    [Fact]
    public async Task Uploads_with_bad_signatures_bad_sizes_or_too_many_keys_are_refused()
    {
        await using var fx = await ServerFixture.StartAsync();
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var identity = EcKeyPair.Generate();
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);

        var forged = Upload(identity, 1, 0);
        forged.SignedPrekey.Signature = ByteString.CopyFrom(EcKeyPair.Generate().CalculateSignature(forged.SignedPrekey.PublicKey.ToByteArray()));
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(new ClientFrame { UploadPrekeys = forged })).Error.Code);

        var shortKey = Upload(identity, 0, 0);
        shortKey.IdentityKey = ByteString.CopyFrom(new byte[5]);
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(new ClientFrame { UploadPrekeys = shortKey })).Error.Code);

        var badKyber = Upload(identity, 0, 0);
        badKyber.KyberLastResort = Signed(identity, 5, new byte[100]);
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(new ClientFrame { UploadPrekeys = badKyber })).Error.Code);

        Assert.Equal(ErrorCode.TooLarge, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 101, 0) })).Error.Code);

        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 5, 0) })).BodyCase);
        var otherIdentity = Upload(EcKeyPair.Generate(), 1, 0, firstId: 50);
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(new ClientFrame { UploadPrekeys = otherIdentity })).Error.Code);
    }

    [Fact]
    public async Task Bundle_fetch_floods_are_rate_limited_per_requester()
    {
        await using var fx = await ServerFixture.StartAsync(o => o.Limits.BundleFetchesPerMinute = 5);
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var carol = await RawClient.RegisterAsync(fx.Server, "carol");
        await using (var b = await RawClient.ConnectAsync(fx.Server, bob))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(EcKeyPair.Generate(), 50, 0) })).BodyCase);
        }
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        int served = 0;
        ServerFrame answer;
        while ((answer = await a.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } })).BodyCase == ServerFrame.BodyOneofCase.PrekeyBundles)
        {
            served++;
            Assert.True(served <= 5);
        }
        Assert.Equal(5, served);
        Assert.Equal(ErrorCode.RateLimited, answer.Error.Code);
        Assert.True(answer.Error.RetryAfterMs > 0);

        // Another requester is not affected, and most of Bob's prekeys are still there.
        await using var c = await RawClient.ConnectAsync(fx.Server, carol);
        var bundle = Assert.Single((await c.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "bob" } })).PrekeyBundles.Bundles);
        Assert.Equal(6u, bundle.OneTimePrekey.Id);
    }

    [Fact]
    public async Task Uploads_past_the_device_rate_are_RATE_LIMITED_refused_ones_included_and_other_devices_go_on()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fx = await ServerFixture.StartAsync(o => (o.Limits.PreKeyUploadBurst, o.Limits.PreKeyUploadsPerDevicePerHour) = (3, 60), clock);
        var bob = await RawClient.RegisterAsync(fx.Server, "bob");
        var carol = await RawClient.RegisterAsync(fx.Server, "carol");
        var identity = EcKeyPair.Generate();
        await using var b = await RawClient.ConnectAsync(fx.Server, bob);

        // Each upload costs its signature checks, so a refused one counts like a stored one.
        var forged = Upload(identity, 0, 50);
        forged.KyberPrekeys[49].Signature = ByteString.CopyFrom(new byte[64]);
        Assert.Equal(ErrorCode.BadRequest, (await b.RequestAsync(new ClientFrame { UploadPrekeys = forged })).Error.Code);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 10, 10) })).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 10, 10, firstId: 100) })).BodyCase);
        var refused = await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 10, 10, firstId: 200) });
        Assert.Equal(ErrorCode.RateLimited, refused.Error.Code);
        Assert.InRange(refused.Error.RetryAfterMs, 1u, 60_000u);

        await using (var c = await RawClient.ConnectAsync(fx.Server, carol))
        {
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await c.RequestAsync(new ClientFrame { UploadPrekeys = Upload(EcKeyPair.Generate(), 10, 10) })).BodyCase);
        }
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await b.RequestAsync(new ClientFrame { UploadPrekeys = Upload(identity, 10, 10, firstId: 200) })).BodyCase);
    }
}
