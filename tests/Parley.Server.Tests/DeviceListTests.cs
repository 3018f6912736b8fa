using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>PublishDeviceList: what the server stores and serves, and what it refuses.</summary>
public sealed class DeviceListTests
{
    private static SignedDeviceList Sign(IdentityKeyPair key, string user, ulong version, params uint[] devices)
    {
        var list = new AccountDeviceList { User = user, Version = version, AccountKey = ByteString.CopyFrom(key.IdentityKey.Serialize()) };
        list.Devices.AddRange(devices.Select(d => new ListedDevice { DeviceId = d, IdentityKey = ByteString.CopyFrom(IdentityKeyPair.Generate().IdentityKey.Serialize()), AddedAt = 1 }));
        var bytes = list.ToByteString();
        return new SignedDeviceList { List = bytes, Signature = ByteString.CopyFrom(key.CalculateSignature(DeviceListSigning.SignedBytes(bytes))) };
    }

    private static ClientFrame Publish(SignedDeviceList signed) => new() { PublishDeviceList = new PublishDeviceList { Signed = signed } };

    [Fact]
    public async Task A_published_list_is_served_with_device_lists_and_bundles_and_survives_a_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("parley-test-").FullName;
        var account = IdentityKeyPair.Generate();
        var v2 = Sign(account, "alice", 2, 1, 2);
        await using (var first = await ParleyServer.StartAsync(dataDir))
        {
            var alice = await RawClient.RegisterAsync(first, "alice");
            await RawClient.LinkAsync(first, alice);
            await using var a = await RawClient.ConnectAsync(first, alice);
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Publish(Sign(account, "alice", 1, 1)))).BodyCase);
            Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Publish(v2))).BodyCase);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using (var fx = await ServerFixture.StartAsync(dataDir: dataDir))
        {
            var bob = await RawClient.RegisterAsync(fx.Server, "bob");
            await using var b = await RawClient.ConnectAsync(fx.Server, bob);
            var devices = (await b.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = "alice" } })).DeviceList;
            Assert.Equal(v2, devices.Signed);
            Assert.Equal([1u, 2u], devices.DeviceIds);
            Assert.Equal(v2, (await b.RequestAsync(new ClientFrame { GetBundles = new GetPreKeyBundles { User = "alice" } })).PrekeyBundles.Signed);
            Assert.Null((await b.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = "bob" } })).DeviceList.Signed);
        }
    }

    [Fact]
    public async Task Lists_that_are_older_unsigned_for_another_account_or_name_unknown_devices_are_refused_with_the_reason()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var account = IdentityKeyPair.Generate();
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Publish(Sign(account, "alice", 5, 1)))).BodyCase);
        var badSignature = Sign(account, "alice", 6, 1);
        badSignature.Signature = Sign(IdentityKeyPair.Generate(), "alice", 6, 1).Signature;

        foreach (var (signed, reason) in new[]
        {
            (Sign(account, "alice", 5, 1), "not above the current 5"),
            (Sign(account, "bob", 6, 1), "another account"),
            (Sign(account, "alice", 6, 1, 7), "does not have"),
            (Sign(account, "alice", 6), "1 to"),
            (badSignature, "signature does not verify"),
            (new SignedDeviceList { List = ByteString.CopyFrom(new byte[WireLimits.MaxSignedDeviceListBytes]) }, "at most"),
        })
        {
            var error = (await a.RequestAsync(Publish(signed))).Error;
            Assert.Equal(ErrorCode.BadRequest, error.Code);
            Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        }
        var served = (await a.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = "alice" } })).DeviceList.Signed;
        Assert.Equal(5ul, AccountDeviceList.Parser.ParseFrom(served.List).Version);
    }

    [Fact]
    public async Task The_list_already_held_published_again_is_accepted_and_changes_nothing()
    {
        await using var fx = await ServerFixture.StartAsync();
        var alice = await RawClient.RegisterAsync(fx.Server, "alice");
        await using var a = await RawClient.ConnectAsync(fx.Server, alice);
        var account = IdentityKeyPair.Generate();
        var v3 = Sign(account, "alice", 3, 1);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Publish(v3))).BodyCase);
        Assert.Equal(ServerFrame.BodyOneofCase.Ok, (await a.RequestAsync(Publish(v3.Clone()))).BodyCase);
        // Another list with the same version is still refused: only the very same bytes are a repeat.
        Assert.Contains("not above the current 3", (await a.RequestAsync(Publish(Sign(account, "alice", 3, 1)))).Error.Message, StringComparison.Ordinal);
        Assert.Equal(v3, (await a.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = "alice" } })).DeviceList.Signed);
    }
}
