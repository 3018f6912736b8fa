using Parley.Client.Storage;

namespace Parley.Client.Tests;

/// <summary>The store contract on SQLite, in a temporary profile folder.</summary>
public sealed class SqliteClientStoreTests : ClientStoreContractTests
{
    private TempProfile? _profile;

    private protected override IClientStore OpenStore() => ClientStore.Open((_profile ??= new TempProfile()).Path);

    protected override void DisposeBacking() => _profile?.Dispose();
}
