using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// A temporary data folder for tests of the SQLite queue store on its own (no server): opens the
/// store there with <see cref="Options"/>, and deletes the folder on dispose.
/// </summary>
internal sealed class QueueStoreFolder(string prefix) : IDisposable
{
    /// <summary>The folder; it exists until disposal.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The settings every store opened here uses; a test may change them before opening one.</summary>
    public ParleyOptions Options { get; } = new();

    /// <summary>The queue store on <paramref name="database"/>, with a sink that ignores commits.</summary>
    public SqliteMessageStore OpenStore(SqliteDatabase database, TimeProvider? time = null, AccountDirectory? accounts = null) =>
        new(database, new IgnoringSink(), Options, time ?? TimeProvider.System, NullLogger<SqliteMessageStore>.Instance, accounts);

    /// <summary>The single integer <paramref name="sql"/> selects.</summary>
    public static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class IgnoringSink : IEnvelopeSink
    {
        public void OnCommitted(IReadOnlyList<QueuedEnvelope> envelopes)
        {
        }
    }
}
