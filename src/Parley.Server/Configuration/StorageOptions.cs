namespace Parley.Server.Configuration;

/// <summary>Embedded storage settings.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// SQLite synchronous mode. Full (default) fsyncs the WAL at every group commit, so SENT
    /// survives power loss; Normal survives a process crash but not power loss, for more speed.
    /// </summary>
    public SynchronousMode Synchronous { get; set; } = SynchronousMode.Full;

    /// <summary>
    /// SQLite secure_delete=FAST (default on): deleted envelope bodies and dedup entries are zeroed
    /// in the pages a commit writes anyway, so delivered messages do not linger in the file. Off
    /// only to measure what it costs (docs/performance.md).
    /// </summary>
    public bool SecureDelete { get; set; } = true;

    /// <summary>Most operations folded into one group-commit transaction.</summary>
    public int MaxBatch { get; set; } = 4096;
}
