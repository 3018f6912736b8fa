namespace Parley.Cli;

/// <summary>The exit codes of every <c>parley</c> command.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Bad arguments, or a local problem the user must fix (no profile, unknown message id).</summary>
    public const int Usage = 1;

    /// <summary>The server refused, or could not be reached.</summary>
    public const int Server = 2;

    /// <summary>
    /// Queued, not yet sent: the message is stored in this profile's outbox (pending, a clock) and
    /// goes out with the next command that reaches the server (or <c>parley sync</c>). Not a failure.
    /// </summary>
    public const int Queued = 3;
}
