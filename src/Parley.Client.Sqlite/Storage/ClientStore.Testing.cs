namespace Parley.Client.Storage;

// Test hooks of the SQLite store, reached only through ClientTestSurface: they damage or drop what
// a device keeps, as a restored or broken device would, to exercise self-healing.
internal sealed partial class ClientStore
{
    /// <summary>Deletes every session record (as a restored or damaged device would have none).</summary>
    public int DeleteAllSessionRecords()
    {
        lock (_gate)
        {
            return Execute(null, "DELETE FROM sessions");
        }
    }

    /// <summary>Overwrites every session record with bytes that do not parse (a damaged store).</summary>
    public int DamageAllSessionRecords()
    {
        lock (_gate)
        {
            return Execute(null, "UPDATE sessions SET record = x'0a02ffff'");
        }
    }
}
