using Microsoft.Data.Sqlite;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>Device ids are never given out twice within an account, across removals and restarts.</summary>
public sealed class DeviceIdTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-device-ids-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private AccountDirectory Open() => new(new SqliteAccountStore(new SqliteDatabase(_dir, new StorageOptions()), TimeProvider.System), TimeProvider.System);

    [Fact]
    public void A_removed_highest_device_id_is_not_given_out_again_even_after_a_restart()
    {
        var directory = Open();
        Assert.NotNull(directory.Create("alice", null, "phone"));
        var alice = directory.Find("alice")!;
        Assert.Equal(2u, directory.AddDevice(alice, "laptop", 8)!.DeviceId);
        Assert.Equal(3u, directory.AddDevice(alice, "tablet", 8)!.DeviceId);
        Assert.True(directory.RemoveDevice(alice, 3));
        Assert.Equal(4u, directory.AddDevice(alice, "tablet again", 8)!.DeviceId);
        Assert.True(directory.RemoveDevice(alice, 4));
        SqliteConnection.ClearAllPools();

        var restarted = Open();
        var again = restarted.Find("alice")!;
        Assert.Equal([1u, 2u], again.Devices.Select(d => d.Id));
        Assert.Equal(5u, restarted.AddDevice(again, "watch", 8)!.DeviceId);
    }
}
