namespace Parley.Crypto.Fingerprints;

/// <summary>Thrown when a scanned fingerprint uses another scannable format version than ours.</summary>
public sealed class FingerprintVersionMismatchException : CryptoException
{
    /// <summary>Creates the exception naming both versions.</summary>
    public FingerprintVersionMismatchException(int theirs, int ours)
        : base($"Fingerprint version mismatch: theirs {theirs}, ours {ours}.")
    {
        Theirs = theirs;
        Ours = ours;
    }

    /// <summary>The version in the scanned code.</summary>
    public int Theirs { get; }

    /// <summary>Our version.</summary>
    public int Ours { get; }
}
