namespace Parley.Client.Storage;

/// <summary>
/// Faults a test injects into a store: it drops or damages what a device keeps, as a restored or
/// broken device would, to exercise self-healing. Only the SQLite store implements it; reached only
/// through <see cref="ClientTestSurface"/>.
/// </summary>
internal interface IStoreFaults
{
    /// <summary>Deletes every session record; returns how many there were.</summary>
    int DeleteAllSessionRecords();

    /// <summary>Overwrites every session record with bytes that do not parse; returns how many.</summary>
    int DamageAllSessionRecords();

    /// <summary>Forgets every sender key this device holds; returns how many.</summary>
    int DeleteAllSenderKeys();
}
