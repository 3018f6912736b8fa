namespace Parley.Crypto;

/// <summary>A key had the wrong type byte, the wrong length, or produced a degenerate (all-zero) agreement.</summary>
public class InvalidKeyException : CryptoException
{
    public InvalidKeyException()
    {
    }

    public InvalidKeyException(string message)
        : base(message)
    {
    }

    public InvalidKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
