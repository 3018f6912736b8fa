using Parley.Client.Storage;

namespace Parley.Client.Tests;

/// <summary>The store contract on SQLite, in a temporary profile folder.</summary>
public sealed class SqliteClientStoreTests : ClientStoreContractTests
{
    private TempProfile? _profile;

    private protected override IClientStore OpenStore() => ClientStore.Open((_profile ??= new TempProfile()).Path);

    protected override void DisposeBacking() => _profile?.Dispose();

    [Fact]
    public void A_database_from_before_pending_history_gains_it_when_opened()
    {
        using var profile = new TempProfile();
        ClientStore.Open(profile.Path).Dispose();
        // What a store of the earlier version left: every table but pending_history.
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={System.IO.Path.Combine(profile.Path, ClientStore.FileName)};Pooling=False"))
        {
            db.Open();
            using var drop = db.CreateCommand();
            drop.CommandText = "DROP TABLE pending_history";
            drop.ExecuteNonQuery();
        }
        using var store = ClientStore.Open(profile.Path);
        Assert.Null(store.PendingHistory());
        store.SavePendingHistory([[1]], 1);
        Assert.Equal([1], store.PendingHistory()!.Chunks.Select(c => c.Number));
    }
}
