namespace Parley.Client.Storage;

/// <summary>What the store did with a verified device list.</summary>
internal enum TrustOutcome
{
    /// <summary>Newer (or the first, or under a new account key): it is the trusted list now.</summary>
    Accepted,

    /// <summary>The same version as the trusted one: nothing changed.</summary>
    Unchanged,

    /// <summary>An older version under the same account key: refused, the trusted list stays.</summary>
    RolledBack,
}
