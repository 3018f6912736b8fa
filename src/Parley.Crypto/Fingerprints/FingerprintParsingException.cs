namespace Parley.Crypto.Fingerprints;

/// <summary>Thrown when scanned bytes are not a well-formed combined fingerprint.</summary>
public sealed class FingerprintParsingException : CryptoException
{
    /// <summary>Creates the exception with a reason.</summary>
    public FingerprintParsingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a reason and the parser's error.</summary>
    public FingerprintParsingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
